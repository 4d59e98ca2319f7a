"""The text boundary: every string from a page, a file name or a setting passes here first.

XML 1.0 (the feeds, the transcripts' HTML), ID3 frames and file systems cannot all carry every
code point. Control characters (C0 but tab and line ends, DEL, C1), surrogates and Unicode
non-characters (U+FDD0-U+FDEF, U+xFFFE and U+xFFFF in every plane) are invisible, break captions,
and make lxml refuse a whole feed. So:

- text read from a page is *cleaned*: :func:`clean` drops them and says what was dropped, by line
  (the page is still built, with a warning naming the line);
- a setting is *refused*: :func:`setting_problem` says why, in words for a message naming the key;
- a file name is *shown* through :func:`shown_name`, which never fails to encode.
"""

from __future__ import annotations

import os
import re

_NONCHARACTERS = "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + re.escape(_NONCHARACTERS) + "]")


def unsafe_characters(text: str) -> list[int]:
    """The code points of ``text`` that XML, ID3 or captions cannot carry, in order, each once.

    >>> unsafe_characters("Show\\x01 \\uffff ok\\t")
    [1, 65535]
    """
    return list(dict.fromkeys(ord(c) for c in UNSAFE.findall(text)))


def describe(codes: list[int]) -> str:
    """Code points as Unicode writes them.

    >>> describe([1, 0xFFFF])
    'U+0001, U+FFFF'
    """
    return ", ".join(f"U+{c:04X}" for c in codes)


def clean(text: str) -> tuple[str, list[tuple[int, list[int]]]]:
    r"""``text`` without the characters it cannot carry (tab and line endings stay), and what was
    dropped, by line. Line numbers count newlines, as editors do.

    >>> clean("Fever\x01 of 38\n\x0bC\x7f\uffff")
    ('Fever of 38\nC', [(1, [1]), (2, [11, 127, 65535])])
    """
    dropped: dict[int, list[int]] = {}
    for m in UNSAFE.finditer(text):
        dropped.setdefault(text.count("\n", 0, m.start()) + 1, []).append(ord(m.group()))
    return (UNSAFE.sub("", text), sorted(dropped.items())) if dropped else (text, [])


def shown_name(path: os.PathLike | str) -> str:
    """A file name as text that any file, record or terminal can carry: bytes that are not UTF-8
    (a Latin-1 name) become U+FFFD, unsafe characters are dropped.

    >>> shown_name(os.fsdecode(b"caf\\xe9.txt"))
    'caf\ufffd.txt'
    """
    text = os.fsdecode(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return UNSAFE.sub("", text)


def setting_problem(value: str) -> str | None:
    """Why a setting's text cannot be published as it is (None if it can).

    >>> setting_problem("Show\\x01")
    'contains U+0001, a control character or non-character that feeds and tags cannot carry'
    >>> setting_problem("Good show") is None
    True
    """
    codes = unsafe_characters(value)
    if codes:
        return f"contains {describe(codes)}, a control character or non-character that feeds and tags cannot carry"
    return None
