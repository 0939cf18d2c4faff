"""The idle screen's rotation: what a slide's turn costs, and the main loop's CPU at idle with it running.

The kiosk runs on the demo catalog after a sync with a central store that
holds a month of reading (the gallery's), so the idle screen has its slides.
Measured in one run, each against a baseline of the same run:

- frames at 800x480: the whole idle screen, and a slide's turn (only its
  card is redrawn), against one full-surface fill and blit (target: a frame
  under 5 ms);
- idle CPU: `MainLoop.step` for N seconds with nothing happening, slides
  turning every `ROTATE_SECONDS` and, as a worst case, every second, against
  a bare loop that only sleeps a quarter second at a time (target: under 3 %
  of one core).

Run: .venv/bin/python bench/idle_rotation.py [SECONDS]
"""

from __future__ import annotations

import os
import queue
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pygame  # noqa: E402

from kiosk import store  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.clock import SystemClock  # noqa: E402
from kiosk.config import parse_config  # noqa: E402
from kiosk.demo.gallery import central_page, prepare_gallery_db  # noqa: E402
from kiosk.i18n import translator  # noqa: E402
from kiosk.run import MainLoop  # noqa: E402
from kiosk import screen as drawing  # noqa: E402
from kiosk.screen import Screen, find_cjk_font  # noqa: E402
from screen_bench import cpu_share  # noqa: E402  (the same measure as the loop's own bench)
from report import figure  # noqa: E402

REPEAT = 50


def median_ms(work) -> float:
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def frames(kiosk: Kiosk, font: str) -> None:
    surface = pygame.Surface((800, 480))
    tile = pygame.Surface((800, 480))

    def baseline_frame():
        surface.fill((255, 255, 255))
        surface.blit(tile, (0, 0))

    base = median_ms(baseline_frame)
    screen = Screen(surface, translator, font_path=font)
    view = kiosk.view
    now = datetime.now(timezone.utc)

    def whole():
        screen.dirty = True
        screen.show(view)
        screen.draw(now)

    turn = [0]

    def slide_turn():
        turn[0] += 1
        screen.draw(now + timedelta(seconds=turn[0] * drawing.ROTATE_SECONDS))

    whole()
    full = median_ms(whole)
    part = median_ms(slide_turn)
    print(f"frames at 800x480, idle with {len(view.slides)} slides (baseline: one fill and blit, {base:.3f} ms):")
    print(f"  whole idle screen  median {full:6.2f} ms   {full / base:6.1f} x baseline   target < 5 ms")
    print(f"  a slide's turn     median {part:6.2f} ms   {part / base:6.1f} x baseline")
    figure("idle screen frame at 800x480", full, "ms", baseline=base, baseline_is="one fill and blit", at_most=5)


def idle_cpu(kiosk: Kiosk, screen: Screen, seconds: float) -> None:
    loop = MainLoop(kiosk, screen, queue.Queue(), on_draw=pygame.display.update)
    loop.step()
    base = cpu_share(lambda: time.sleep(0.25), seconds)
    real = cpu_share(loop.step, seconds)
    every = drawing.ROTATE_SECONDS
    drawing.ROTATE_SECONDS = 1
    try:
        fast = cpu_share(loop.step, seconds)
    finally:
        drawing.ROTATE_SECONDS = every
    print(f"idle CPU over {seconds:.0f} s at 800x480, {len(kiosk.view.slides)} slides (target < 3 % of one core):")
    print(f"  a bare loop sleeping 0.25 s          {base * 100:5.2f} %")
    print(f"  main loop, a slide every {every} s        {real * 100:5.2f} %   (+{(real - base) * 100:.2f} points)")
    print(f"  main loop, a slide every second      {fast * 100:5.2f} %   (+{(fast - base) * 100:.2f} points)")
    figure("idle CPU with the slides turning", real * 100, "% of a core", baseline=base * 100,
           baseline_is="a bare loop sleeping 0.25 s", at_most=3)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    pygame.display.init()
    pygame.font.init()
    font = find_cjk_font()
    with tempfile.TemporaryDirectory() as tmp:
        page = central_page(Path(tmp) / "central")
        prepare_gallery_db(Path(tmp) / "kiosk.db", page)
        db = store.open_db(Path(tmp) / "kiosk.db")
        display = pygame.display.set_mode((800, 480))
        screen = Screen(display, translator, font_path=font)
        kiosk = Kiosk(db, parse_config({}), SystemClock(lambda: store.central_offset(db)), screen=screen)
        frames(kiosk, font)
        idle_cpu(kiosk, screen, seconds)
        pygame.display.quit()


if __name__ == "__main__":
    main()
