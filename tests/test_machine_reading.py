"""The state machine for issue 17: a re-tap that would not renew, the language of one session, one reason for
a stopped card, names instead of raw values, three distinct sounds, reading progress and Find a book."""

from dataclasses import replace
from datetime import date

from kiosk.domain.events import Outcome, Press, Record, ShowcaseUpdate, Sound, Tap, Tick, Type
from kiosk.domain.machine import MachineConfig
from kiosk.domain.model import Policy
from kiosk.domain.view import Book, Message, Progress, Slide
from tests.test_machine import BOOK, BOOK2, CABINET_BOOK, MIA, REPAIR, STOPPED, VERY_LATE, VOL, book, card, run

def outcome(effects) -> Outcome:
    return next(e for e in effects if isinstance(e, Outcome))


def test_a_book_just_lent_tapped_again_is_already_yours_and_burns_no_renewal():
    state, effects = run([(0, card(MIA)), (3, book(BOOK))])
    lent = next(l for l in state.loans if l.item_id == BOOK.id)
    state, effects = run([(0, card(MIA)), (3, book(BOOK)), (6, book(BOOK, lent))])
    said = outcome(effects)
    assert (said.kind, said.reason, said.due) == ("info", "already_yours", date(2026, 12, 7))
    assert not [e for e in effects if isinstance(e, Record)]
    assert next(l for l in state.loans if l.item_id == BOOK.id).renewals == 0
    assert said.message.render() == "Charlotte's Web is already yours. Please return it by 2026-12-07."


def test_renewal_still_works_on_a_later_day():
    lent = replace(next(iter(run([(0, card(MIA)), (3, book(BOOK))])[0].loans)))
    later = 3 * 24 * 3600
    state, effects = run([(later, card(MIA, lent)), (later + 3, book(BOOK, lent))])
    said = outcome(effects)
    assert (said.kind, said.due) == ("renew", date(2026, 12, 10))
    assert [e.kind for e in effects if isinstance(e, Record)] == ["renew"]


def test_the_language_chosen_lasts_one_session_then_the_kiosks_own_returns():
    config = MachineConfig(result_seconds=4)
    state, _ = run([(0, card(MIA)), (1, Press("lang")), (2, Press("done"))], config)
    assert state.view.screen == "summary" and state.view.language == "zh_CN"
    state, _ = run([(0, card(MIA)), (1, Press("lang")), (2, Press("done")), (7, Tick())], config)
    assert (state.view.screen, state.view.language) == ("idle", "en")
    # the next student, and the staff screen, are greeted in the kiosk's language
    state, _ = run([(0, card(MIA)), (1, Press("lang")), (2, Press("done")), (7, Tick()), (8, card(VOL))], config)
    assert (state.view.screen, state.view.language) == ("staff", "en")


def test_a_language_chosen_at_idle_serves_the_next_session_or_goes_back_when_nobody_comes():
    state, _ = run([(0, Press("lang")), (5, card(MIA))])
    assert (state.view.screen, state.view.language) == ("session", "zh_CN")
    state, _ = run([(0, Press("lang")), (19, Tick())])
    assert state.view.language == "zh_CN"
    state, _ = run([(0, Press("lang")), (21, Tick())])
    assert state.view.language == "en"


def test_a_stopped_card_is_told_once_and_after_a_return_the_reason_stays_once():
    state, effects = run([(0, card(STOPPED))])
    assert outcome(effects).message == state.view.message == state.view.blocked
    assert [e.name for e in effects if isinstance(e, Sound)] == ["librarian"]
    late = run([(0, card(MIA, VERY_LATE)), (3, book(BOOK2, VERY_LATE))])[0].view
    assert late.message.render().startswith("Returned: Matilda")
    assert late.blocked is None and late.can_do is None  # the late book is back: no longer stopped
    assert late.allowance == 3


def test_staff_see_names_and_words_not_codes():
    state, _ = run([(0, card(VOL)), (3, book(CABINET_BOOK))])
    shown = state.view.message.render()
    assert shown == "Frog and Toad: on the shelf. It belongs in Class 3A."
    named = MachineConfig(homes={"class-3a": "Mr Lee's corner"})
    state, _ = run([(0, card(VOL)), (3, book(CABINET_BOOK))], named)
    assert state.view.message.render().endswith("It belongs in Mr Lee's corner.")


def test_done_refused_and_see_the_librarian_sound_different():
    sounds = {}
    for name, steps in {"done": [(0, card(MIA)), (3, book(BOOK))],
                        "refused": [(0, card(MIA, VERY_LATE)), (3, book(BOOK))],
                        "librarian": [(0, card(MIA)), (3, book(REPAIR))]}.items():
        sounds[name] = [e.name for e in run(steps)[1] if isinstance(e, Sound)]
    assert sounds == {"done": ["ok"], "refused": ["error"], "librarian": ["librarian"]}


PROGRESS = Progress(term_books=6, term_goal=15)


def test_progress_comes_with_the_session_and_grows_with_each_book():
    state, effects = run([(0, Tap(MIA.card_uid, found=MIA, progress=PROGRESS))])
    assert outcome(effects).progress == PROGRESS and state.view.progress == PROGRESS
    state, effects = run([(0, Tap(MIA.card_uid, found=MIA, progress=PROGRESS)), (3, book(BOOK)),
                          (6, book(BOOK2)), (9, Press("done"))])
    said = outcome(effects)
    assert said.kind == "session_end" and said.progress.term_books == 8
    assert state.view.praise.render() == "Halfway to your goal. Keep going!"


def test_reaching_the_goal_is_praised_in_the_summary():
    near = Progress(term_books=14, term_goal=15)
    state, _ = run([(0, Tap(MIA.card_uid, found=MIA, progress=near)), (3, book(BOOK)), (6, Press("done"))])
    assert state.view.praise.render() == "You reached your goal of 15 books this term!"
    state, _ = run([(0, Tap(MIA.card_uid, found=MIA, progress=near)), (6, Press("done"))])
    assert state.view.praise is None  # nothing borrowed, nothing crossed


def test_a_checkout_shows_what_readers_also_read():
    also = (Book("Matilda", "Roald Dahl", "F DAH"),)
    state, _ = run([(0, card(MIA)), (3, Tap(BOOK.tag_uid, found=BOOK, also=also))])
    assert state.view.also == also
    state, _ = run([(0, card(MIA)), (3, Tap(BOOK.tag_uid, found=BOOK, also=also)), (5, Press("help"))])
    assert state.view.also == ()


def test_find_a_book_on_the_door_kiosk_types_answers_and_leaves():
    answer = Book("草房子", "曹文轩", "I247 CAO", Message("On the shelf: {home}, {call_number}",
                                                       {"home": "Library", "call_number": "I247 CAO"}))
    state, effects = run([(0, Press("find"))])
    assert state.view.screen == "find" and outcome(effects).reason == "find"
    state, effects = run([(0, Press("find")), (2, Type("CFZ", "CFZ", (answer,)))])
    assert state.view.found == (answer,) and state.view.query == "CFZ"
    assert outcome(effects).message.render() == "草房子: On the shelf: Library, I247 CAO"
    state, effects = run([(0, Press("find")), (2, Type("CFZ", "CFZ", ())), (4, Press("done"))])
    assert state.view.screen == "idle" and state.view.query == ""
    state, _ = run([(0, Press("find")), (2, Type("C", "C", ())), (25, Tick())])
    assert state.view.screen == "idle"  # nobody typing: back to idle


def test_find_is_not_offered_at_a_cabinet():
    cabinet = MachineConfig(role="cabinet", home="class-3a")
    state, effects = run([(0, Press("find"))], cabinet)
    assert outcome(effects).kind == "ignored" and "find" not in state.view.buttons
    assert "find" in run([])[0].view.buttons


def test_new_slides_show_at_idle_only():
    slides = (Slide("new", Message("New in {home}", {"home": "Library"}), books=(Book("Holes"),)),)
    state, effects = run([(0, ShowcaseUpdate(slides))])
    assert state.view.slides == slides and effects
    state, effects = run([(0, card(MIA)), (1, ShowcaseUpdate(slides))])
    assert state.view.screen == "session" and not effects
    state, _ = run([(0, card(MIA)), (1, ShowcaseUpdate(slides)), (2, Press("done")), (10, Tick())])
    assert state.view.slides == slides


def test_goals_come_from_the_rules():
    policy = Policy(term_goal=20)
    progress = Progress(term_books=19, term_goal=policy.term_goal)
    state, _ = run([(0, Tap(MIA.card_uid, found=MIA, progress=progress)), (3, book(BOOK)), (4, Press("done"))],
                   MachineConfig(policy=policy))
    assert state.view.praise.render() == "You reached your goal of 20 books this term!"
