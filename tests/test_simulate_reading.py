"""`kiosk simulate` for issue 17: the text as shown (and in English beside it), a student's reading progress on
the session's first and last lines, Find a book by title, author and pinyin initials, the language of one
session."""

from tests.test_simulate import db_path, simulate  # noqa: F401  (the fixture)

START = "at 2026-11-23T09:00:00+08:00\n"


def test_message_is_the_text_as_shown_with_english_beside_it(tmp_path, db_path):  # noqa: F811
    _, lines = simulate(tmp_path, db_path, START + "press lang\ntap 1B2C3D4E\ntap 0466778899AABB\n")
    checkout = lines[-1]
    assert checkout["language"] == "zh_CN" and checkout["outcome"] == "checkout"
    assert checkout["message"] == "借好了：草房子。请在 12月7日 周一 前归还。"
    assert checkout["message_en"] == "Borrowed: 草房子. Please return it by Mon 7 Dec."


def test_progress_on_a_students_session_start_and_summary(tmp_path, db_path):  # noqa: F811
    _, lines = simulate(tmp_path, db_path, START + "tap 04A1B2C3\ntap 04112233445566\nwait 3\ntap 04223344556677\n"
                        "press done\n")
    start, _, _, end = lines
    assert start["progress"] == {"term_books": 0, "term_goal": 15}
    assert (end["outcome"], end["progress"]) == ("session_end", {"term_books": 2, "term_goal": 15})
    _, lines = simulate(tmp_path, db_path, "at 2026-11-24T09:00:00+08:00\ntap 04A1B2C3\n")
    assert lines[0]["progress"] == {"term_books": 2, "term_goal": 15}  # from the kiosk's own log
    _, lines = simulate(tmp_path, db_path, "at 2027-02-02T09:00:00+08:00\ntap 04A1B2C3\n")
    assert lines[0]["progress"]["term_books"] == 0  # a new term


def test_no_progress_for_a_teacher_and_none_on_other_lines(tmp_path, db_path):  # noqa: F811
    _, lines = simulate(tmp_path, db_path, START + "tap 4E5F6071\ntap 04112233445566\npress done\n")
    assert [line["progress"] for line in lines] == [None, None, None]


def test_goals_and_terms_from_the_rules(tmp_path, db_path):  # noqa: F811
    config = tmp_path / "kiosk.toml"
    config.write_text('[policy]\nterm_goal = 20\nterm_starts = ["2026-11-20"]\n', encoding="utf-8")
    _, lines = simulate(tmp_path, db_path, "at 2026-11-19T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\n"
                        "press done\nat 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\n", "--config", config)
    assert lines[-1]["progress"] == {"term_books": 0, "term_goal": 20}  # borrowed before this term began


def test_find_a_book_by_title_author_and_pinyin_initials(tmp_path, db_path):  # noqa: F811
    _, lines = simulate(tmp_path, db_path, START + "press find\ntype hob\npress done\npress find\ntype CFZ\n"
                        "press done\npress find\ntype Dahl\npress done\npress find\ntype qqq\n")
    found = [line for line in lines if line["reason"] == "find" and line["input"].startswith("type")]
    assert [line["message"] for line in found] == [
        "The Hobbit: On the shelf: Library, F TOL",
        "草房子: On the shelf: Library, I247 CAO",
        "Matilda: On the shelf: Library, F DAH",
        "No book found for qqq. Try other letters.",
    ]
    assert lines[0]["screen"] == "find" and lines[2]["screen"] == "idle"


def test_find_says_when_a_book_is_back_and_types_on(tmp_path, db_path):  # noqa: F811
    _, lines = simulate(tmp_path, db_path, START + "tap 04A1B2C3\ntap 04334455667788\npress done\nwait 6\n"
                        "press find\ntype Ho\ntype b\n")
    assert lines[-2]["message"].startswith("Holes")  # "Ho": Holes comes first by title
    assert lines[-1]["message"] == "The Hobbit: On loan, back by Mon 7 Dec"


def test_typing_without_find_changes_nothing(tmp_path, db_path):  # noqa: F811
    _, lines = simulate(tmp_path, db_path, START + "type abc\n")
    assert (lines[0]["outcome"], lines[0]["reason"], lines[0]["screen"]) == ("ignored", "not_here", "idle")


def test_the_next_student_is_greeted_in_the_kiosks_language(tmp_path, db_path):  # noqa: F811
    _, lines = simulate(tmp_path, db_path, START + "tap 1B2C3D4E\npress lang\npress done\nwait 6\ntap 04A1B2C3\n")
    assert lines[1]["language"] == "zh_CN"
    assert (lines[-1]["language"], lines[-1]["message"]) == ("en", "Hello, Mia Chen")
