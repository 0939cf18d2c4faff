"""The kiosk screen as a person sees it: every screen, both languages, three sizes (SDL dummy driver)."""

import os
from datetime import datetime, timedelta, timezone

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import pygame  # noqa: E402

from kiosk.domain.errors import ConfigError  # noqa: E402
from kiosk.i18n import translator  # noqa: E402
from kiosk.screen import SIZES, Screen, find_cjk_font, fit_text  # noqa: E402
from kiosk.demo.gallery import SCENES, render_all  # noqa: E402
from kiosk.domain.view import KioskStatus, Message, View  # noqa: E402


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return render_all(tmp_path_factory.mktemp("screens"))


def test_every_screen_in_both_languages_and_three_sizes_was_drawn(gallery):
    assert len(gallery) == len(SCENES) * 2 * len(SIZES)
    screens = {item["view"].screen for item in gallery}
    assert screens == {"idle", "result", "session", "summary", "staff", "inventory", "receive", "help", "fault"}


def test_no_text_overflows_its_box(gallery):
    bad = [f"{item['path'].name}: {problem}" for item in gallery for problem in item["overflow"]]
    assert bad == []


def test_long_titles_are_shortened_with_an_ellipsis_not_cut(gallery):
    small = next(i for i in gallery if i["scene"] == "checkout" and i["size"] == (320, 240)
                 and i["language"] == "en")
    titles = [b for b in small["screen"].boxes if "Dragons" in b.text]
    assert titles and any(line.endswith("…") for b in titles for line in b.lines)


def notdef(font):
    """The font's picture for a character it lacks."""
    return pygame.image.tobytes(font.render("\U0010FFFD", True, (0, 0, 0), (255, 255, 255)), "RGB")


def test_chinese_screens_show_chinese_glyphs_not_empty_boxes(gallery):
    for item in gallery:
        if item["language"] != "zh_CN":
            continue
        screen = item["screen"]
        font = screen.fonts["small"]
        chinese = {c for b in screen.boxes for c in b.text if ord(c) >= 0x4E00}
        assert chinese, f"{item['path'].name} shows no Chinese"
        empty = notdef(font)
        for char in chinese:
            picture = pygame.image.tobytes(font.render(char, True, (0, 0, 0), (255, 255, 255)), "RGB")
            assert picture != empty, f"{char!r} drawn as an empty box in {item['path'].name}"


def test_a_font_without_chinese_is_caught_by_that_check():
    font = pygame.font.Font("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 20)
    assert pygame.image.tobytes(font.render("借", True, (0, 0, 0), (255, 255, 255)), "RGB") == notdef(font)


def test_touch_buttons_are_big_enough_and_answer_a_touch(gallery):
    for item in gallery:
        for name, rect in item["screen"].targets.items():
            assert rect.height >= 40 and rect.width >= 56, (item["path"].name, name, rect)
            assert item["screen"].hit(rect.center) == name
    idle = next(i for i in gallery if i["scene"] == "idle" and i["size"] == (800, 480))
    assert set(idle["screen"].targets) == {"help", "lang"}
    assert idle["screen"].hit((400, 200)) is None


NOW = datetime(2026, 11, 23, 9, 0, 5, tzinfo=timezone.utc)


def idle_view(now=NOW, **status):
    return View(screen="idle", language="en", kiosk_name="Library door", now=now, status=KioskStatus(**status),
                heading=Message("Tap your card to borrow. Tap a book to return."), buttons=("help", "lang"))


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


def test_fitting_wraps_words_and_chinese_characters():
    pygame.font.init()
    font = pygame.font.Font(find_cjk_font(), 20)
    lines = fit_text(font, "Tap your card to borrow. Tap a book to return.", 160, 5)
    assert len(lines) > 1 and all(font.size(line)[0] <= 160 for line in lines)
    assert " ".join(lines) == "Tap your card to borrow. Tap a book to return."
    chinese = fit_text(font, "先刷借书卡，再一本一本刷书就能借书。还书时只刷书就行。", 100, 9)
    assert len(chinese) > 2 and all(font.size(line)[0] <= 100 for line in chinese)
    assert "".join(chinese) == "先刷借书卡，再一本一本刷书就能借书。还书时只刷书就行。"


def test_a_missing_font_says_what_to_install(monkeypatch):
    with pytest.raises(ConfigError, match=r"\[screen\] font: no such font file"):
        find_cjk_font("/nonexistent/font.ttf")
    monkeypatch.setattr("kiosk.screen.KNOWN_FONTS", ())
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ConfigError, match="fonts-wqy-microhei"):
        find_cjk_font()
