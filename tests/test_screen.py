"""The kiosk screen's drawing machinery: what it redraws and when, fitting text, finding a Chinese font, the
idle slides taking turns (SDL dummy driver)."""

import os
from datetime import datetime, timedelta, timezone

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import pygame  # noqa: E402

from kiosk.domain.errors import ConfigError  # noqa: E402
from kiosk.domain.view import Book, KioskStatus, Message, Slide, View  # noqa: E402
from kiosk.i18n import translator  # noqa: E402
from kiosk.screen import ROTATE_SECONDS, Screen, find_cjk_font, fit_text  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, 5, tzinfo=timezone.utc)
SLIDES = (Slide("new", Message("New in {home}", {"home": "Library"}), books=(Book("Holes", "Louis Sachar", "F SAC"),)),
          Slide("popular", Message("Most borrowed this month"), books=(Book("Matilda", "Roald Dahl", "F DAH"),)))


def idle_view(now=NOW, slides=(), **status):
    return View(screen="idle", language="en", kiosk_name="Library door", now=now, status=KioskStatus(**status),
                heading=Message("Tap your card to borrow. Tap a book to return."), buttons=("help", "lang"),
                slides=slides)


def test_redraws_only_when_something_changed():
    pygame.display.init()
    screen = Screen(pygame.Surface((480, 320)), translator)
    screen.show(idle_view())
    assert screen.draw(NOW) == [pygame.Rect(0, 0, 480, 320)]
    assert screen.draw(NOW + timedelta(seconds=1)) == []  # the same minute: nothing to do
    screen.show(idle_view(NOW + timedelta(seconds=2)))  # only the time moved on
    assert screen.draw(NOW + timedelta(seconds=2)) == []
    clock_only = screen.draw(NOW + timedelta(minutes=1))
    assert len(clock_only) == 1 and clock_only[0].width < 120  # the clock, not the screen
    screen.show(idle_view(pending=3))
    assert screen.draw(NOW + timedelta(minutes=1)) == [pygame.Rect(0, 0, 480, 320)]
    assert any("3 waiting" in b.text for b in screen.boxes)


def test_the_slides_take_turns_and_only_their_card_is_redrawn():
    screen = Screen(pygame.Surface((800, 480)), translator)
    start = datetime.fromtimestamp(ROTATE_SECONDS * 1000, timezone.utc)  # the first slide's turn
    screen.show(idle_view(start, SLIDES))
    screen.draw(start)
    assert "New in Library" in [b.text for b in screen.boxes]
    assert screen.draw(start + timedelta(seconds=ROTATE_SECONDS - 1)) == []
    turned = screen.draw(start + timedelta(seconds=ROTATE_SECONDS))
    assert turned == [screen.slide_rect] and screen.slide_rect.width < 400
    shown = [b.text for b in screen.boxes]
    assert "Most borrowed this month" in shown and "New in Library" not in shown
    assert "Tap your card to borrow. Tap a book to return." in shown  # the instruction stays


def test_fitting_wraps_words_and_chinese_characters():
    pygame.font.init()
    font = pygame.font.Font(find_cjk_font(), 20)
    lines = fit_text(font, "Tap your card to borrow. Tap a book to return.", 160, 5)
    assert len(lines) > 1 and all(font.size(line)[0] <= 160 for line in lines)
    assert " ".join(lines) == "Tap your card to borrow. Tap a book to return."
    chinese = fit_text(font, "先刷借书卡，再一本一本刷书就能借书。还书时只刷书就行。", 100, 9)
    assert len(chinese) > 2 and all(font.size(line)[0] <= 100 for line in chinese)
    assert "".join(chinese) == "先刷借书卡，再一本一本刷书就能借书。还书时只刷书就行。"
    assert not any(line.startswith(("，", "。")) for line in chinese)  # no line starts with a closing mark


def test_a_missing_font_says_what_to_install(monkeypatch):
    with pytest.raises(ConfigError, match=r"\[screen\] font: no such font file"):
        find_cjk_font("/nonexistent/font.ttf")
    monkeypatch.setattr("kiosk.screen.fonts.KNOWN_FONTS", ())
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ConfigError, match="fonts-wqy-microhei"):
        find_cjk_font()


def test_a_touch_on_the_keyboard_types_and_a_touch_on_a_button_presses(tmp_path):
    from kiosk.app import Kiosk
    from kiosk.clock import ScriptClock
    from kiosk.config import parse_config
    from kiosk.demo import prepare_demo_db
    from kiosk.run import MainLoop
    from kiosk import store
    import queue

    prepare_demo_db(tmp_path / "k.db")
    screen = Screen(pygame.Surface((800, 480)), translator)
    kiosk = Kiosk(store.open_db(tmp_path / "k.db"), parse_config({}), ScriptClock(NOW), screen=screen)
    loop = MainLoop(kiosk, screen, queue.Queue())
    screen.draw(NOW)
    loop.touch(screen.targets["find"].center)
    screen.draw(NOW)
    for key in ("key:H", "key:O", "key:B", "key:backspace"):
        loop.touch(screen.targets[key].center)
        screen.draw(NOW)
    assert kiosk.view.screen == "find" and kiosk.view.query == "HO"
    loop.touch(screen.targets["done"].center)
    assert kiosk.view.screen == "idle"
