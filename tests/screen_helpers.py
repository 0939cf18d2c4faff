"""Shared by the screen tests: whether a font draws a character (the dummy display is in conftest.py)."""



def notdef(font):
    """The picture `font` draws for a character it lacks (a private-use code point no font has)."""
    import pygame

    return pygame.image.tobytes(font.render("\U0010FFFD", True, (0, 0, 0), (255, 255, 255)), "RGB")


def has_glyph(font, char: str) -> bool:
    """Whether `font` draws `char` as itself, not as its empty box."""
    import pygame

    picture = pygame.image.tobytes(font.render(char, True, (0, 0, 0), (255, 255, 255)), "RGB")
    return picture != notdef(font)
