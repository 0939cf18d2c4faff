"""Telling the text encodings of imported files apart: UTF-8 (with or without BOM), GBK and GB18030.

Excel on a Chinese Windows saves "CSV" in the system's code page, GBK; a
Chinese title in GBK is never valid UTF-8, so UTF-8 is tried first and
strictly, then GBK, then GB18030 (its superset, for the rarer characters).
Whatever is read is named, so a person can see which it was.
"""

from __future__ import annotations

from kiosk.domain.errors import ImportRejected

# (codec, the name people know it by), in the order they are tried.
ENCODINGS = (("utf-8-sig", "UTF-8"), ("gbk", "GBK"), ("gb18030", "GB18030"))


def decode_named(data: bytes, source: str) -> tuple[str, str]:
    """The text of `data` and the name of the encoding it was read in; `ImportRejected` when none fits."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRejected(source, ["the file is UTF-16 (Excel's \"Unicode text\"); save it as CSV UTF-8"])
    first_error = None
    for codec, name in ENCODINGS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
            continue
        if "\x00" in text.partition("\n")[0]:
            break  # NULs in the header: a binary (a workbook) or UTF-16 file, not text in any of these
        # (a stray NUL in a field is named by its line when the rows are read)
        return text, name
    where = f" (byte {first_error.start})" if first_error else ""
    raise ImportRejected(source, [f"not UTF-8, GBK or GB18030 text{where}; save the file as CSV UTF-8"])
