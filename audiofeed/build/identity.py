"""Reading and identity: every page read, and checked against the others before any work.

Two pages that would publish under one folder name (``flu.md`` beside ``flu.txt``), two pages
pinning one GUID (a page copied to start another), or one question answered twice on a page
would make apps keep one episode of two, or drop an answer silently. Each is refused in one line
naming both files (or both lines); the page keeps its last published episode, and the other
pages go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..problems import Problem, error
from ..publish.episode import Episode
from ..read import Page, PageError, find_pages, read_page, slug_for


@dataclass
class Found:
    """What reading found: the pages to build, each one's source digest, the files that failed
    (their pages keep their last episode), and every problem."""

    pages: list[Page] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # slug -> SHA-256 of the bytes parsed
    failed: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_pages(articles: Path, last_published: Callable[[str], Episode | None]) -> Found:
    """Read every page of ``articles``; ``last_published`` gives a slug's episode as published
    (a GUID collision is decided in favour of the page that published it first)."""
    found = Found()
    by_slug: dict[str, list[Path]] = {}
    for path in find_pages(articles):
        by_slug.setdefault(slug_for(path), []).append(path)
    for slug, paths in by_slug.items():
        if len(paths) > 1:
            others = " and ".join(str(p) for p in paths[1:])
            found.problems.append(error(paths[0], f"same page name {slug!r} as {others}; rename one "
                                                  "(none of them is built until then)"))
            found.failed.append(paths[0])
            continue
        path = paths[0]
        try:
            page = read_page(path)
        except PageError as e:
            found.problems.extend(e.problems)
            found.failed.append(path)
            continue
        if twice := repeated_answers(page):
            found.problems.extend(twice)
            found.failed.append(path)
            continue
        found.problems.extend(page.warnings)
        found.pages.append(page)
        found.digests[page.slug] = page.source_sha256
    for page in guid_collisions(found.pages, last_published, found.problems):
        found.pages.remove(page)
        found.failed.append(page.source)
    return found


def guid_collisions(pages: list[Page], last_published: Callable[[str], Episode | None],
                    problems: list[Problem]) -> list[Page]:
    """Pages pinning a GUID (front matter ``guid``) that another page pins too: apps would keep
    one of the two episodes. The page that published it first keeps it; the others are refused."""
    pinned: dict[str, list[Page]] = {}
    for page in pages:
        if page.guid:
            pinned.setdefault(page.guid, []).append(page)
    refused = []
    for guid, same in pinned.items():
        if len(same) < 2:
            continue
        holders = [p for p in same if (last := last_published(p.slug)) is not None and last.guid == guid]
        for page in same:
            if page in holders[:1]:
                continue
            others = " and ".join(str(p.source) for p in same if p is not page)
            problems.append(error(page.source, f"guid {guid!r} is also the guid of {others}; "
                                               "give each page its own (apps keep one episode per GUID)"))
            refused.append(page)
    return refused


def repeated_answers(page: Page) -> list[Problem]:
    """An answer that repeats an earlier one of its page (the same question by the same doctor):
    the page is refused rather than publishing one of them silently."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for answer in page.answers:
        first = seen.setdefault((answer.doctor, " ".join(answer.question.split()).casefold()), answer.line)
        if first != answer.line:
            out.append(error(page.source, f"the same question by {answer.doctor} as line {first} "
                                          f"({answer.question!r}); remove one", answer.line))
    return out
