"""Which encoding an imported file is read in, and which files are not text at all."""

import pytest

from kiosk.domain.encodings import decode_named
from kiosk.domain.errors import ImportRejected

TITLE = "id,title\nB1,西游记\n"


@pytest.mark.parametrize("data, text, name", [
    (TITLE.encode("utf-8"), TITLE, "UTF-8"),
    (b"\xef\xbb\xbf" + TITLE.encode("utf-8"), TITLE, "UTF-8"),
    (TITLE.encode("gbk"), TITLE, "GBK"),
    ("id,name\nS1,王𠀀\n".encode("gb18030"), "id,name\nS1,王𠀀\n", "GB18030"),
    # One stray NUL in a field is text: the row reader names its line and column.
    ("id,title\nB1,West\x00ward\n".encode("utf-8"), "id,title\nB1,West\x00ward\n", "UTF-8"),
])
def test_a_text_file_is_read_in_its_encoding_and_named(data, text, name):
    assert decode_named(data, "books.csv") == (text, name)


@pytest.mark.parametrize("data, problem", [
    (TITLE.encode("utf-16"), "the file is UTF-16"),
    (TITLE.encode("utf-16-le"), "not UTF-8, GBK or GB18030 text"),  # no BOM: NULs all through
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(200), "not UTF-8, GBK or GB18030 text"),  # a workbook
    ("Zoë".encode("latin-1") + b"\xff\xfe\xfd", "not UTF-8, GBK or GB18030 text (byte"),
])
def test_a_file_that_is_not_text_is_refused_by_name(data, problem):
    with pytest.raises(ImportRejected) as refused:
        decode_named(data, "books.csv")
    assert problem in str(refused.value)
