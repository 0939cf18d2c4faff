"""The screen's cost: frame time per screen, and the main loop's CPU at idle.

Frame time: each screen of the gallery drawn from scratch at 800x480 and at
320x240, against a baseline of one full-surface fill and blit in the same
run. Idle: `kiosk run`'s loop on SDL's dummy driver for a few seconds with
nothing happening, CPU seconds over wall seconds, against a bare loop that
only sleeps a quarter second at a time (target: under 3 % of one core).

A screen is drawn within a frame when it takes at most 33 ms (the main
loop runs at 30 frames a second, kiosk/run.py).

Run: .venv/bin/python bench/screen_bench.py [--repeat 30] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame  # noqa: E402

import hardware  # noqa: E402
from kiosk import store  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.clock import SystemClock  # noqa: E402
from kiosk.config import parse_config  # noqa: E402
from kiosk.demo import prepare_demo_db  # noqa: E402
from kiosk.i18n import translator  # noqa: E402
from kiosk.run import POLL_MS, MainLoop  # noqa: E402
from kiosk.screen import Screen, find_cjk_font  # noqa: E402
from kiosk.demo.gallery import scene_views  # noqa: E402

from report import figure  # noqa: E402


def frame_times(font: str, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        views = list(scene_views(Path(tmp), "en"))
    for size in ((800, 480), (320, 240)):
        surface = pygame.Surface(size)
        tile = pygame.Surface(size)
        start = time.perf_counter()
        for _ in range(repeat):
            surface.fill((255, 255, 255))
            surface.blit(tile, (0, 0))
        baseline = (time.perf_counter() - start) / repeat
        print(f"frame time at {size[0]}x{size[1]} (baseline: one fill and blit, {baseline * 1000:.3f} ms)")
        screen = Screen(surface, translator, font_path=font)
        slowest = ("", 0.0)
        for scene, view, now in views:
            name = scene.name
            samples = []
            for _ in range(repeat):
                screen.dirty = True
                screen.show(view)
                start = time.perf_counter()
                screen.draw(now)
                samples.append(time.perf_counter() - start)
            median = statistics.median(samples)
            print(f"  {name:<14} median {median * 1000:6.2f} ms   {median / baseline:6.1f} x baseline")
            slowest = max(slowest, (name, median), key=lambda pair: pair[1])
        figure(f"slowest screen drawn at {size[0]}x{size[1]} ({slowest[0]}), median", slowest[1] * 1000, "ms",
               baseline=baseline * 1000, baseline_is="one fill and blit", at_most=POLL_MS)


def cpu_share(work, seconds: float) -> float:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    end = wall0 + seconds
    while time.perf_counter() < end:
        work()
    return (time.process_time() - cpu0) / (time.perf_counter() - wall0)


def idle_cpu(font: str, seconds: float = 5.0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kiosk.db"
        prepare_demo_db(path)
        db = store.open_db(path)
        pygame.display.init()
        surface = pygame.display.set_mode((800, 480))
        screen = Screen(surface, translator, font_path=font)
        devices = hardware.build("fake", {})
        inputs = queue.Queue()
        devices.post_to(inputs)
        kiosk = Kiosk(db, parse_config({}), SystemClock(lambda: store.central_offset(db)), lights=devices.lights, sounder=devices.sounder,
                      screen=screen, translate=translator)
        loop = MainLoop(kiosk, screen, inputs, on_draw=pygame.display.update)
        loop.step()
        base = cpu_share(lambda: time.sleep(0.25), seconds)
        share = cpu_share(loop.step, seconds)
        print(f"idle CPU over {seconds:g} s: main loop {share * 100:.2f} % of one core; "
              f"a bare sleeping loop {base * 100:.2f} %   target < 3 %")
        figure("main loop at idle, CPU", share * 100, "% of a core", baseline=base * 100,
               baseline_is="a loop that only sleeps", at_most=3.0)
        pygame.display.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="draws of each screen")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the idle measurement")
    args = parser.parse_args()
    pygame.display.init()
    pygame.font.init()
    font = find_cjk_font()
    frame_times(font, args.repeat)
    idle_cpu(font, args.seconds)


if __name__ == "__main__":
    main()
