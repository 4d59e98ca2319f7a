"""Reading: article pages in, :class:`~.pages.Page` and :class:`~.pages.Answer` out.

One reader per input format, chosen by file extension (:data:`READERS`); the rest of the
program never sees a format. A page that cannot be read raises :class:`~.pages.PageError`
carrying every problem found, each with its line, so the builder can report them and carry on.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from ..problems import warning
from ..storage import NotARegularFile, read_regular
from .markdown import MarkdownPageReader
from .pages import (MAX_ANSWER_WORDS, MAX_PAGE_BYTES, Answer, Page, PageError, _at, decode_source,
                    drop_control_characters, slug_for)
from .scraped import ScrapedPageReader

__all__ = ["Answer", "Page", "PageError", "READERS", "find_pages", "read_page", "slug_for"]

READERS = {ext: reader for reader in (ScrapedPageReader(), MarkdownPageReader()) for ext in reader.extensions}


def find_pages(folder: Path) -> list[Path]:
    """Article files under ``folder`` that some reader knows, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in READERS)


def read_page(path: Path) -> Page:
    """Read one article file into a :class:`Page`; raise :class:`PageError` listing every problem."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise PageError(path, [_at(None, f"no reader for '{path.suffix}' files")])
    try:
        raw = read_regular(path, MAX_PAGE_BYTES, follow=True)
    except NotARegularFile as e:
        raise PageError(path, [_at(None, f"{e.strerror}; a page may have at most {MAX_PAGE_BYTES >> 20} MiB")]) from None
    except OSError as e:
        raise PageError(path, [_at(None, f"cannot read: {e.strerror}")]) from None
    text, dropped = drop_control_characters(decode_source(path, raw))
    page = reader.read(path, text)
    # the page key follows its image too (front matter ``image``), which the page's files carry
    page = replace(page, source_sha256=hashlib.sha256(raw + (page.image.read_bytes() if page.image else b"")).hexdigest())
    long = [_at(a.line, f"the answer of {a.doctor} has {n} words; an answer may have at most {MAX_ANSWER_WORDS}")
            for a in page.answers if (n := len(a.text.split())) > MAX_ANSWER_WORDS]
    if long:
        raise PageError(path, long)
    if dropped:
        page = replace(page, warnings=tuple(
            warning(path, f"dropped control character{'s' if len(codes) > 1 else ''} "
                    + ", ".join(f"U+{c:04X}" for c in codes), line) for line, codes in dropped))
    return page


