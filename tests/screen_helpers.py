"""Shared by the screen tests: SDL's dummy video driver for one test module at a time, and a font check."""

import pytest


@pytest.fixture(scope="module")
def dummy_display():
    """pygame with SDL's dummy video driver for this module only; the environment is restored after."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDL_VIDEODRIVER", "dummy")
        import pygame

        pygame.display.init()
        pygame.font.init()
        yield pygame
        pygame.display.quit()


def notdef(font):
    """The picture `font` draws for a character it lacks (a private-use code point no font has)."""
    import pygame

    return pygame.image.tobytes(font.render("\U0010FFFD", True, (0, 0, 0), (255, 255, 255)), "RGB")


def has_glyph(font, char: str) -> bool:
    """Whether `font` draws `char` as itself, not as its empty box."""
    import pygame

    picture = pygame.image.tobytes(font.render(char, True, (0, 0, 0), (255, 255, 255)), "RGB")
    return picture != notdef(font)
