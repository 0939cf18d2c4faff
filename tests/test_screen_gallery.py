"""Every screen as a student or the librarian sees it: each scene the real kiosk produces, in both languages
and all three sizes, drawn on SDL's dummy driver and checked for what a person would notice."""

import pytest

from kiosk.demo.gallery import DEMO_LEGEND, SCENES, main, render_all
from kiosk.i18n import translator
from kiosk.screen import LATE, SIZES, TONES
from kiosk.screen.layout import BOTTOM, KEY_MM, MIN_BUTTON_MM, MIN_TEXT_MM, STAFF
from tests.screen_helpers import has_glyph


@pytest.fixture(scope="module")
def gallery(dummy_display, tmp_path_factory):
    return render_all(tmp_path_factory.mktemp("screens"))


def pick(gallery, scene, language="en", size=(800, 480)):
    return next(i for i in gallery if i["scene"] == scene and i["language"] == language and i["size"] == size)


def texts(item):
    return [b.text for b in item["screen"].boxes]


def test_every_screen_is_drawn_in_both_languages_and_three_sizes(gallery):
    assert len(gallery) == len(SCENES) * 2 * len(SIZES)
    assert {i["view"].screen for i in gallery} == {"idle", "result", "session", "summary", "staff", "inventory",
                                                    "receive", "help", "fault", "find"}


def test_no_text_leaves_its_box_covers_another_is_cut_short_or_is_too_small(gallery):
    bad = [f"{i['path'].name}: {p}" for i in gallery for p in i["problems"]]
    assert bad == []


def test_nothing_is_smaller_than_a_child_reads(gallery):
    for item in gallery:
        screen = item["screen"]
        least = MIN_TEXT_MM * screen.layout.px_per_mm
        assert min(b.size for b in screen.boxes) >= least, item["path"].name
    staff = pick(gallery, "librarian", "en", (320, 240))["screen"]
    labels = [b for b in staff.boxes if any(b.box.colliderect(r) for r in staff.targets.values())]
    assert labels and min(b.size for b in labels) >= 16  # once ~10 px at 320x240


def test_the_help_in_a_session_is_whole_at_every_size(gallery):
    for language in ("en", "zh_CN"):
        whole = translator(language)("Tap your library card, then tap each book to borrow it. "
                                     "To return a book, tap it on its own. Need help? Please ask the librarian.")
        for size in SIZES:
            boxes = pick(gallery, "session_help", language, size)["screen"].boxes
            shown = next(b for b in boxes if b.text == whole)
            assert not shown.cut and "…" not in "".join(shown.lines), (language, size)


def test_with_the_demo_legend_every_screen_still_fits(dummy_display, tmp_path):
    # The demo's window: 800x480 by default, 480x320 on a small desktop; a 2.8" panel has no keyboard to use it.
    drawn = render_all(tmp_path, legend=DEMO_LEGEND, languages=("en",), sizes=((480, 320), (800, 480)))
    assert [f"{i['path'].name}: {p}" for i in drawn for p in i["problems"]] == []


def test_chinese_shows_as_characters_not_empty_boxes(gallery):
    for item in gallery:
        if item["language"] != "zh_CN":
            continue
        screen = item["screen"]
        chinese = {c for b in screen.boxes for c in b.text if ord(c) >= 0x3000}
        assert len(chinese) >= 4, f"{item['path'].name} shows no Chinese: {texts(item)}"
        missing = sorted(c for c in chinese if not has_glyph(screen.fonts["small"], c))
        assert missing == [], f"{item['path'].name} draws {missing} as empty boxes"


def test_buttons_keep_their_places_on_every_screen(gallery):
    for size in SIZES:
        places = {}
        for item in (i for i in gallery if i["size"] == size):
            for name, rect in item["screen"].targets.items():
                if name in BOTTOM or name in STAFF:
                    places.setdefault(name, set()).add(tuple(rect))
        assert all(len(rects) == 1 for rects in places.values()), (size, places)
        rects = [next(iter(r)) for r in places.values()]
        assert len(set(rects)) == len(rects)  # and no two buttons ever share a place


def test_touch_targets_are_big_enough_and_answer_a_touch(gallery):
    for item in gallery:
        screen = item["screen"]
        for name, rect in screen.targets.items():
            least = (KEY_MM if name.startswith("key:") else MIN_BUTTON_MM) * screen.layout.px_per_mm
            assert rect.height >= least and rect.width >= least, (item["path"].name, name, tuple(rect))
            assert screen.hit(rect.center) == name
        assert {n for n in screen.targets if not n.startswith("key:")} == set(item["view"].buttons)


def test_one_big_instruction_with_drawn_pictures_and_an_arrow_to_the_reader(gallery):
    for size in SIZES:
        idle = pick(gallery, "idle", "en", size)["screen"]
        assert {"card", "book", "arrow"} <= {i.kind for i in idle.icons}
        instruction = next(b for b in idle.boxes if b.text == "Tap your card to borrow. Tap a book to return.")
        assert instruction.size == max(b.size for b in idle.boxes)


def test_the_idle_slides_show_new_books_most_borrowed_and_the_class_goal(gallery):
    assert "New in Library" in texts(pick(gallery, "idle"))
    assert "Most borrowed this month" in texts(pick(gallery, "idle_popular"))
    cabinet = pick(gallery, "idle_cabinet")
    assert "Class 3A this month" in texts(cabinet) and "bar" in {i.kind for i in cabinet["screen"].icons}
    assert "spine" in {i.kind for i in pick(gallery, "idle")["screen"].icons}
    assert "3A班本月" in texts(pick(gallery, "idle_cabinet", "zh_CN"))


def test_progress_praise_and_recommendations_are_on_screen(gallery):
    assert any(t.endswith("books this term") for t in texts(pick(gallery, "session")))
    summary = texts(pick(gallery, "summary"))
    assert "5 books this term. Well done!" in summary and "5 of 15 books this term" in summary
    assert "Class 3A: 8 books this month, goal reached!" in texts(pick(gallery, "summary_cabinet"))
    assert "Readers of this book also read: The Hobbit, The Secret Garden" in texts(pick(gallery, "checkout"))


def test_a_stopped_card_says_its_reason_once_and_what_may_still_be_done(gallery):
    for size in SIZES:
        shown = texts(pick(gallery, "blocked", "en", size))
        assert shown.count("Your card is stopped. Please see the librarian.") == 1
        assert "You can still return books." in shown
        assert not any(t.startswith("You may borrow") for t in shown)


def test_names_and_local_times_never_raw_values(gallery):
    door = texts(pick(gallery, "other_cabinet"))
    assert any("It belongs in Class 3A." in t for t in door) and not any("class-3a" in t for t in door)
    staff = " ".join(texts(pick(gallery, "staff", "zh_CN")))
    for raw in ("on_loan", "library", "T0", "+00:00"):
        assert raw not in staff
    counted = " ".join(texts(pick(gallery, "inventory", "zh_CN")))
    for raw in ("class-3a", "library"):
        assert raw not in counted
    assert "盘点：图书馆" in counted and "《Frog and Toad Are Friends》：属于3A班。" in counted


def test_find_a_book_shows_the_keyboard_and_answers(gallery):
    for size in SIZES:
        item = pick(gallery, "find", "zh_CN", size)
        assert sum(name.startswith("key:") for name in item["screen"].targets) == 28
    assert any("小王子" in t and "I565 SAI" in t for t in texts(pick(gallery, "find", "en", (320, 240))))
    results = texts(pick(gallery, "find_results"))
    assert "Holes: On the shelf: Library, F SAC" in results
    assert "The Hobbit: On loan, back by Mon 7 Dec" in results


def test_the_keys_are_big_enough_for_a_childs_finger_and_a_touch_lands_on_one(gallery):
    for size in SIZES:
        for scene in ("find_empty", "find_results"):
            screen = pick(gallery, scene, "en", size)["screen"]
            keys = {n[4:]: r for n, r in screen.targets.items() if n.startswith("key:")}
            assert set(keys) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") | {"backspace", "space"}
            least = KEY_MM * screen.layout.px_per_mm  # 7 mm: 40 px at 320x240 (2.8"), once 28 px (5 mm)
            assert min(min(r.size) for r in keys.values()) >= least, size
            targets = list(screen.targets.values())
            assert not any(a.colliderect(b) for i, a in enumerate(targets) for b in targets[i + 1:]), size
            letters = [b for b in screen.boxes if len(b.text) == 1 and b.text.isupper()]
            assert len(letters) == 26 and min(b.size for b in letters) >= MIN_TEXT_MM * screen.layout.px_per_mm
    answers = texts(pick(gallery, "find_results", "en", (320, 240)))
    assert "Holes: On the shelf: Library, F SAC" in answers  # and a line of answers above the keys


def test_the_staff_screen_shows_the_whole_status_at_every_size(gallery):
    wanted = ["Reader: working", "Waiting to sync: 2", "Last sync: never", "Clock: synced", "IP: 192.168.10.23",
              "Unknown tags: 04DEADBEEF0001 (Mon 23 Nov 09:00)"]
    for size in SIZES:
        first, second = (pick(gallery, scene, "en", size) for scene in ("staff", "staff_more"))
        shown = texts(first) + texts(second)
        assert all(fact in shown for fact in wanted), (size, shown)
        assert any(t.startswith("Version ") for t in shown)
        if size != (320, 240):  # on one page: nothing takes turns
            assert not first["screen"].pages and texts(first) == texts(second)
    small = pick(gallery, "staff", "en", (320, 240))["screen"]
    assert len(small.pages) == 2 and "pages" in {i.kind for i in small.icons}


def test_late_books_are_red_and_say_late(gallery):
    for language in ("en", "zh_CN"):
        for size in SIZES:
            late = [b for b in pick(gallery, "session", language, size)["screen"].boxes if b.color == LATE]
            assert any(b.text.startswith(translator(language)("LATE")) for b in late), (language, size)


def test_every_coloured_banner_has_an_icon_and_outcomes_a_word(gallery):
    for item in gallery:
        view, screen = item["view"], item["screen"]
        if view.screen in ("result", "fault"):
            tone = "error" if view.screen == "fault" else view.tone
            assert translator(item["language"])(TONES[tone][2]) in texts(item), item["path"].name
            assert {i.kind for i in screen.icons} & {"ok", "cross", "info"}, item["path"].name


def test_the_gallery_command_writes_pictures_and_their_index(dummy_display, tmp_path, capsys):
    assert main([str(tmp_path)]) == 0
    index = (tmp_path / "README.md").read_text(encoding="utf-8")
    for scene in SCENES:
        assert f"({scene.name}-zh_CN-800x480.png)" in index
        assert (tmp_path / f"{scene.name}-en-320x240.png").is_file()
    assert f"{len(SCENES) * 6} screenshots" in capsys.readouterr().out
