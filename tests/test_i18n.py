"""Message catalogs: every text the kiosk shows has its Chinese, and the compiled catalog is current."""

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kiosk.i18n import LOCALE_DIR, translator

KIOSK = Path(__file__).resolve().parent.parent / "kiosk"
PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "kiosk.po"
MO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "kiosk.mo"


def used_templates() -> set[str]:
    return {msg for _, _, msg, _, _ in extract_from_dir(str(KIOSK), method_map=[("**.py", "python")],
                                                        keywords={"N_": None})}


def test_every_text_marked_in_the_code_has_a_chinese_translation():
    catalog = read_po(PO.open("rb"))
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(used_templates() - set(translated))
    assert missing == [], f"add to {PO.relative_to(KIOSK.parent)}: {missing}"


def test_the_compiled_catalog_matches_its_source():
    source = {m.id: m.string for m in read_po(PO.open("rb")) if m.id}
    compiled = {m.id: m.string for m in read_mo(io.BytesIO(MO.read_bytes())) if m.id}
    assert compiled == source, "run `make translations` to compile kiosk.po"


def test_placeholders_survive_translation():
    import string

    for message in read_po(PO.open("rb")):
        if message.id:
            fields = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)  # noqa: E731
            assert fields(message.id) == fields(message.string), message.id


def test_the_kiosk_speaks_chinese_through_gettext():
    assert translator("zh_CN")("Tap your card to borrow. Tap a book to return.") == "借书请刷卡，还书请刷书。"
    assert translator("en")("Help") == "Help"
