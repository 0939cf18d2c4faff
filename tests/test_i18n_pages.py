"""The librarian's pages in Chinese: every text has its translation, the compiled catalog is current, and the
language follows the librarian's choice, else her browser's."""

import io
import string
from pathlib import Path

import httpx
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from sync.server.i18n import LOCALE_DIR, from_accept_language
from tests.test_pages import login

SERVER = Path(__file__).resolve().parent.parent / "sync" / "server"
PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "pages.po"
MO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "pages.mo"


def used_texts() -> set:
    found = set()
    for method, pattern in (("python", "**.py"), ("jinja2", "**.html")):
        for _, _, message, _, _ in extract_from_dir(str(SERVER), method_map=[(pattern, method)],
                                                    keywords={"N_": None, "_": None, "ngettext": (1, 2)},
                                                    options_map={pattern: {"extensions": "jinja2.ext.i18n"}}):
            found.add(message)
    return found


def test_every_text_of_the_pages_has_a_chinese_translation():
    catalog = read_po(PO.open("rb"))
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(map(str, used_texts() - translated))
    assert missing == [], f"add to {PO.name} (make translations): {missing}"


def test_the_compiled_catalog_matches_its_source():
    def plain(value):  # plural forms come as lists from one reader and tuples from the other
        return tuple(value) if isinstance(value, (list, tuple)) else value

    source = {plain(m.id): plain(m.string) for m in read_po(PO.open("rb")) if m.id}
    compiled = {plain(m.id): plain(m.string) for m in read_mo(io.BytesIO(MO.read_bytes())) if m.id}
    assert compiled == source, "run `make translations` to compile pages.po"


def fields(text: str) -> list[str]:
    braces = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    percents = [part.split(")")[0] for part in text.split("%(")[1:]]
    return sorted(braces + percents)


def test_placeholders_survive_translation():
    for message in read_po(PO.open("rb")):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert fields(text) == fields(ids[-1]), message.id


def test_the_browser_chooses_the_language_the_first_time():
    assert from_accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert from_accept_language("en-GB,zh;q=0.5") == "en"
    assert from_accept_language("fr;q=0.9, zh-TW;q=0.8") == "zh_CN"
    assert from_accept_language("de") == "en" and from_accept_language("") == "en"


def test_the_pages_speak_chinese_and_the_switch_sticks(pages_central):
    central = pages_central
    client, _ = login(central)
    chinese = client.get("/loans?overdue=1", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-CN"' in chinese.text and "3A 班：逾期图书" in chinese.text and "索书号" in chinese.text
    english = client.get("/loans?overdue=1")
    assert "Class 3A: overdue books" in english.text
    switched = client.get("/lang/zh_CN", params={"back": "/log"})
    assert switched.status_code == 303 and switched.headers["location"] == "/log"
    assert "归还时此书并未借出" in client.get("/log", headers={"Accept-Language": "en"}).text
    elsewhere = client.get("/lang/en", params={"back": "https://example.org/"})
    assert elsewhere.headers["location"] == "/"  # never a way off the site
    assert "Log in" in httpx.get(central.url + "/login", cookies={"kiosk_lang": "en"}).text
    assert "登录" in httpx.get(central.url + "/login", headers={"Accept-Language": "zh"}).text
