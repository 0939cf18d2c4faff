"""The demo's keyboard stand-ins for taps of the demo cards and books (`kiosk run --demo`)."""

from __future__ import annotations

from dataclasses import dataclass, field


DEMO_TAPS = (  # key, tag UID, what the tag is: the cards and books of kiosk/demo/files
    ("m", "04A1B2C3", "Mia's card"),
    ("b", "0A0B0C0D", "Ben's card"),
    ("k", "1B2C3D4E", "李小龙's card"),
    ("z", "2C3D4E5F", "Zoe's card (blocked)"),
    ("v", "5F607182", "Sam's card (volunteer)"),
    ("l", "60718293", "Mrs Wu's card (librarian: Exit)"),
    ("c", "04112233445566", "Charlotte's Web"),
    ("t", "04223344556677", "Matilda"),
    ("h", "04334455667788", "The Hobbit"),
    ("g", "0466778899AABB", "草房子"),
    ("r", "04BBCCDDEEFF00", "a book in repair"),
    ("f", "0499AABBCCDDEE", "a book of class 3A's cabinet"),
    ("u", "04DEADBEEF0001", "a tag nobody knows"),
)


@dataclass(frozen=True)
class DemoKeys:
    """The demo's keyboard stand-ins for taps: a short legend for the screen, the whole list for the terminal."""

    taps: dict[str, str] = field(default_factory=lambda: {key: uid for key, uid, _ in DEMO_TAPS})
    legend: tuple[tuple[str, str], ...] = (
        ("M B K Z", "students"), ("V", "volunteer"), ("L", "librarian"), ("C T H G R F U", "books"),
    )

    def describe(self) -> str:
        """Every key and what it taps, for the terminal that started the demo."""
        keys = ", ".join(f"{key.upper()} {what}" for key, _, what in DEMO_TAPS)
        return f"Keys: {keys}; digits then Enter scan a barcode."
