"""Reading: article pages in, :class:`Page` and :class:`Answer` out.

One reader per input format, chosen by file extension (:data:`READERS`); the rest of the
program never sees a format. A page that cannot be read raises :class:`PageError` carrying
every problem found, each with its line, so the builder can report them and carry on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from ..problems import Problem, warning

__all__ = [
    "Answer",
    "Page",
    "PageError",
    "Problem",
    "READERS",
    "parse_runtime",
    "format_runtime",
    "doctors_of",
    "read_page",
    "find_pages",
]


@dataclass(frozen=True)
class Answer:
    """One doctor's spoken answer: the lead answer of a page or one of its "Other Voices"."""

    question: str
    doctor: str
    specialty: str
    listed_runtime: int | None  # seconds, as the page lists it; None for the lead answer
    text: str
    line: int  # line of the source page where this answer's block starts


@dataclass(frozen=True)
class Page:
    """An article page: a question answered by a lead doctor, then other doctors' answers."""

    source: Path
    slug: str
    title: str
    doctor: str
    specialty: str
    updated: date
    answers: tuple[Answer, ...]  # the lead answer first, then "Other Voices" in page order
    warnings: tuple[Problem, ...] = ()  # what was read past (the page is still built)

    @property
    def doctors(self) -> list[str]:
        return doctors_of(self.answers)


def doctors_of(answers) -> list[str]:
    """The doctors of some answers, in order of first appearance, each once.

    >>> doctors_of([Answer("Q1", "Ana", "GP", None, "", 1), Answer("Q2", "Ben", "GP", 9, "", 5),
    ...             Answer("Q3", "Ana", "GP", 9, "", 9)])
    ['Ana', 'Ben']
    """
    return list(dict.fromkeys(a.doctor for a in answers))


def _at(line: int | None, message: str) -> Problem:
    """A problem at ``line`` of the page being read (:class:`PageError` names the file)."""
    return Problem("", message, line)


@dataclass
class PageError(ValueError):
    """A page that cannot be read; ``problems`` holds every problem found, not only the first."""

    path: Path
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.problems = [replace(p, file=str(self.path)) for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


_RUNTIME = re.compile(
    r"^(?:(?P<min>\d+)\s*min(?:ute)?s?)?\s*(?:(?P<sec>\d+)\s*sec(?:ond)?s?)?$", re.IGNORECASE
)


def parse_runtime(text: str) -> int:
    """Parse a listed runtime into whole seconds.

    >>> parse_runtime("1min 11sec")
    71
    >>> parse_runtime("39sec")
    39
    >>> parse_runtime("2min")
    120
    >>> parse_runtime("2 minutes 5 seconds")
    125
    >>> parse_runtime("1min 75sec")
    Traceback (most recent call last):
    ...
    ValueError: unparseable runtime '1min 75sec' (seconds must be below 60)
    >>> parse_runtime("soon")
    Traceback (most recent call last):
    ...
    ValueError: unparseable runtime 'soon' (expected e.g. '1min 11sec', '39sec' or '2min')
    """
    m = _RUNTIME.match(text.strip())
    if not m or not (m["min"] or m["sec"]):
        raise ValueError(f"unparseable runtime {text.strip()!r} (expected e.g. '1min 11sec', '39sec' or '2min')")
    minutes, seconds = int(m["min"] or 0), int(m["sec"] or 0)
    if m["min"] and seconds >= 60:
        raise ValueError(f"unparseable runtime {text.strip()!r} (seconds must be below 60)")
    total = minutes * 60 + seconds
    if total == 0:
        raise ValueError(f"runtime {text.strip()!r} is zero")
    return total


def format_runtime(seconds: int | None) -> str:
    """A runtime as the pages list it.

    >>> format_runtime(71), format_runtime(39), format_runtime(120), format_runtime(None)
    ('1min 11sec', '39sec', '2min', '')
    """
    if seconds is None:
        return ""
    m, s = divmod(seconds, 60)
    return " ".join(p for p in (f"{m}min" if m else "", f"{s}sec" if s else "") if p)


def decode_source(path: Path, raw: bytes) -> str:
    """Bytes of a page to text: UTF-8 with or without BOM; binary or other encodings refused."""
    problems = []
    if not raw.strip():
        problems.append(_at(None, "empty file"))
    elif b"\x00" in raw:
        problems.append(_at(raw[: raw.index(b"\x00")].count(b"\n") + 1, "binary file (NUL byte), not a text page"))
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            problems.append(
                _at(line, f"not UTF-8: byte 0x{raw[e.start]:02x} at offset {e.start}; save the page as UTF-8")
            )
    raise PageError(path, problems)


# Page furniture: lines the scraped pages carry that are not content.
_FURNITURE = {"doctor image", "home-news-image", "00:00"}
_WRITTEN_BY = re.compile(r"^Written by\s+(?P<doctor>\S.*)$")
_UPDATED = re.compile(r"^Updated on\s+(?P<date>.+)$")
_RUNTIME_LINE = re.compile(r"^(?P<runtime>.*?)\s*(?:home-news-image)?$")
_OTHER_VOICES = "Other Voices"


def _parse_date(text: str) -> date:
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unparseable date {text.strip()!r} (expected e.g. 'February 12, 2025')")


def _paragraphs(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Group numbered lines into paragraphs separated by blank lines: (first line, text)."""
    paras: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, text in lines + [(0, "")]:
        if text.strip():
            if not current:
                start = number
            current.append(text.strip())
        elif current:
            paras.append((start, " ".join(current)))
            current = []
    return paras


class ScrapedPageReader:
    """Reads the scraped page format (``.txt``): header, lead answer, then "Other Voices".

    Layout (blank lines and furniture such as "doctor image" are ignored)::

        Title question
        Written by Lead Doctor
        Specialty
        Updated on February 12, 2025
        Lead answer paragraphs...
        Other Voices
        Written by Doctor          (one block per answer)
        Specialty
        1min 11sec
        Question?
        Answer paragraphs...
    """

    extensions = (".txt",)

    def read(self, path: Path, text: str) -> Page:
        problems: list[Problem] = []
        lines = [(i, ln.rstrip()) for i, ln in enumerate(text.splitlines(), start=1)]
        content = [(i, ln.strip()) for i, ln in lines if ln.strip() not in _FURNITURE]
        nonblank = [(i, ln) for i, ln in content if ln]
        if not nonblank:
            raise PageError(path, [_at(None, "page has no text")])

        # Split at "Other Voices".
        split = next((k for k, (_, ln) in enumerate(content) if ln == _OTHER_VOICES), None)
        head = content if split is None else content[:split]
        tail = [] if split is None else content[split + 1 :]

        title_line, title = nonblank[0]
        header = [(i, ln) for i, ln in head if ln][1:4]
        doctor = specialty = ""
        updated = date(1970, 1, 1)
        body_from = title_line
        expect = ["Written by ...", "a specialty", "Updated on ..."]
        if len(header) < 3:
            problems.append(
                _at(title_line, f"truncated header: expected {', '.join(expect[len(header):])} after the title")
            )
        else:
            (l1, by), (l2, specialty), (l3, upd) = header
            body_from = l3
            m = _WRITTEN_BY.match(by)
            if not m:
                problems.append(_at(l1, f"expected 'Written by DOCTOR', found {by[:60]!r}"))
            else:
                doctor = m["doctor"].strip()
            if _WRITTEN_BY.match(specialty) or _UPDATED.match(specialty):
                problems.append(_at(l2, f"expected the lead doctor's specialty, found {specialty[:60]!r}"))
            m = _UPDATED.match(upd)
            if not m:
                problems.append(_at(l3, f"expected 'Updated on DATE', found {upd[:60]!r}"))
            else:
                try:
                    updated = _parse_date(m["date"])
                except ValueError as e:
                    problems.append(_at(l3, str(e)))

        lead_paras = _paragraphs([(i, ln) for i, ln in head if i > body_from])
        if not lead_paras:
            problems.append(_at(body_from, "the lead answer has no text"))
        answers = [
            Answer(
                question=title,
                doctor=doctor,
                specialty=specialty,
                listed_runtime=None,
                text="\n\n".join(p for _, p in lead_paras),
                line=title_line,
            )
        ]
        if split is not None:
            other = self._other_voices(tail, problems)
            if not other and not problems:
                problems.append(_at(content[split][0], "'Other Voices' is followed by no answer"))
            answers.extend(other)
        if problems:
            raise PageError(path, problems)
        return Page(
            source=path,
            slug=slug_for(path),
            title=title,
            doctor=doctor,
            specialty=specialty,
            updated=updated,
            answers=tuple(answers),
        )

    def _other_voices(self, tail: list[tuple[int, str]], problems: list[Problem]) -> list[Answer]:
        # Each block starts at a "Written by" line.
        starts = [k for k, (_, ln) in enumerate(tail) if _WRITTEN_BY.match(ln)]
        stray = [(i, ln) for i, ln in tail[: starts[0] if starts else len(tail)] if ln]
        if stray:
            i, ln = stray[0]
            problems.append(_at(i, f"expected 'Written by DOCTOR' to start an answer, found {ln[:60]!r}"))
        answers = []
        for n, k in enumerate(starts):
            block = tail[k : starts[n + 1] if n + 1 < len(starts) else len(tail)]
            answer = self._answer_block(block, problems)
            if answer:
                answers.append(answer)
        return answers

    def _answer_block(self, block: list[tuple[int, str]], problems: list[Problem]) -> Answer | None:
        first_line = block[0][0]
        doctor = _WRITTEN_BY.match(block[0][1])["doctor"].strip()
        rest = [(i, ln) for i, ln in block[1:] if ln]
        if len(rest) < 2:
            missing = "specialty and runtime" if not rest else "runtime"
            problems.append(_at(first_line, f"truncated answer block by {doctor}: no {missing}"))
            return None
        (_, specialty), (rt_line, rt_text) = rest[0], rest[1]
        try:
            runtime = parse_runtime(_RUNTIME_LINE.match(rt_text)["runtime"])
        except ValueError as e:
            problems.append(_at(rt_line, str(e)))
            runtime = None
        paras = _paragraphs([(i, ln) for i, ln in block if i > rt_line])
        if not paras:
            problems.append(_at(rt_line, f"truncated answer block by {doctor}: no question and no answer"))
            return None
        q_line, question = paras[0]
        if len(paras) < 2:
            problems.append(_at(q_line, f"answer block by {doctor} has no answer text after the question"))
            return None
        if runtime is None:
            return None
        return Answer(
            question=question,
            doctor=doctor,
            specialty=specialty,
            listed_runtime=runtime,
            text="\n\n".join(p for _, p in paras[1:]),
            line=first_line,
        )


_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])"), r"\2"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),  # code
]


def _plain(markdown_text: str) -> str:
    """Markdown inline markup removed: what is spoken and shown is the plain text.

    >>> _plain("A **CT** scan, see [the guide](https://x.org) and *rest*.")
    'A CT scan, see the guide and rest.'
    """
    for pattern, repl in _INLINE:
        markdown_text = pattern.sub(repl, markdown_text)
    return markdown_text


class MarkdownPageReader:
    """Reads the authoring format (``.md``): YAML front matter, the lead answer, then one
    ``## Question`` section per other answer.

    ::

        ---
        title: Title question?
        date: 2025-02-12
        doctor: Lead Doctor
        specialty: Oncology
        answers:
          - question: The related question?
            doctor: Another Doctor
            specialty: Urology
            runtime: 1min 11sec
        ---
        Lead answer paragraphs.

        ## The related question?

        The answer paragraphs.
    """

    extensions = (".md", ".markdown")
    PAGE_KEYS = {"title", "date", "doctor", "specialty", "answers"}
    ANSWER_KEYS = {"question", "doctor", "specialty", "runtime"}

    def read(self, path: Path, text: str) -> Page:
        import frontmatter
        import yaml

        problems: list[Problem] = []
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            raise PageError(path, [_at(1, "expected front matter: a first line '---', then title, date, doctor...")])
        try:
            post = frontmatter.loads(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise PageError(path, [_at(mark.line + 2 if mark else 1, f"front matter is not valid YAML: {getattr(e, 'problem', e)}")]) from None
        meta = post.metadata
        body_start = next((i for i, ln in enumerate(lines[1:], start=2) if ln.strip() == "---"), 1) + 1

        def field_(key: str, where: dict, label: str, line: int) -> str:
            value = where.get(key)
            if value is None or not str(value).strip():
                problems.append(_at(line, f"missing {label}{key!r}"))
                return ""
            return str(value).strip()

        for k in meta:
            if k not in self.PAGE_KEYS:
                problems.append(_at(1, f"unknown front matter key {k!r} (known: {', '.join(sorted(self.PAGE_KEYS))})"))
        title = field_("title", meta, "", 1)
        doctor = field_("doctor", meta, "", 1)
        specialty = field_("specialty", meta, "", 1)
        updated = date(1970, 1, 1)
        raw_date = meta.get("date")
        if isinstance(raw_date, date):
            updated = raw_date
        elif raw_date is None:
            problems.append(_at(1, "missing 'date'"))
        else:
            try:
                updated = _parse_date(str(raw_date))
            except ValueError as e:
                problems.append(_at(1, str(e)))
        specs = meta.get("answers") or []
        if not isinstance(specs, list):
            problems.append(_at(1, "'answers' must be a list of question, doctor, specialty, runtime"))
            specs = []

        # Body: lead text, then "## question" sections.
        sections: list[tuple[int, str, list[tuple[int, str]]]] = []  # (line, heading, numbered lines)
        lead: list[tuple[int, str]] = []
        for number, ln in enumerate(lines[body_start - 1 :], start=body_start):
            m = re.match(r"^##\s+(.+?)\s*#*\s*$", ln)
            if m:
                sections.append((number, m.group(1).strip(), []))
            elif sections:
                sections[-1][2].append((number, ln))
            else:
                lead.append((number, ln))
        lead_paras = _paragraphs(lead)
        if not lead_paras:
            problems.append(_at(body_start, "the lead answer has no text"))
        answers = [Answer(title, doctor, specialty, None, "\n\n".join(_plain(p) for _, p in lead_paras), 1)]
        by_question = {_plain(h): (line, body) for line, h, body in sections}
        listed = set()
        for n, spec in enumerate(specs, start=1):
            if not isinstance(spec, dict):
                problems.append(_at(1, f"answers[{n}] must have question, doctor, specialty and runtime"))
                continue
            for k in spec:
                if k not in self.ANSWER_KEYS:
                    problems.append(_at(1, f"answers[{n}]: unknown key {k!r} (known: {', '.join(sorted(self.ANSWER_KEYS))})"))
            question = field_("question", spec, f"answers[{n}] ", 1)
            a_doctor = field_("doctor", spec, f"answers[{n}] ", 1)
            a_specialty = field_("specialty", spec, f"answers[{n}] ", 1)
            runtime = None
            try:
                runtime = parse_runtime(str(spec.get("runtime", "")))
            except ValueError as e:
                problems.append(_at(1, f"answers[{n}]: {e}"))
            listed.add(_plain(question))
            if _plain(question) not in by_question:
                problems.append(_at(1, f"answers[{n}]: no '## {question}' section holds its text"))
                continue
            line, body = by_question[_plain(question)]
            paras = _paragraphs(body)
            if not paras:
                problems.append(_at(line, f"answer to {question!r} has no answer text"))
                continue
            if runtime is not None:
                answers.append(Answer(_plain(question), a_doctor, a_specialty, runtime,
                                      "\n\n".join(_plain(p) for _, p in paras), line))
        for line, heading, _ in sections:
            if _plain(heading) not in listed:
                problems.append(_at(line, f"section '## {heading}' is not in the front matter's answers"))
        if problems:
            raise PageError(path, problems)
        return Page(source=path, slug=slug_for(path), title=_plain(title), doctor=doctor, specialty=specialty,
                    updated=updated, answers=tuple(answers))


READERS = {ext: reader for reader in (ScrapedPageReader(), MarkdownPageReader()) for ext in reader.extensions}


def slug_for(path: Path) -> str:
    """A page's stable identifier: its file name without extension, made URL-safe.

    >>> slug_for(Path("articles/000_4fe75e9a818bb161.txt"))
    '000_4fe75e9a818bb161'
    >>> slug_for(Path("Über Fieber!.txt"))
    'ber-fieber'
    """
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.").lower()
    return slug or "page"


def find_pages(folder: Path) -> list[Path]:
    """Article files under ``folder`` that some reader knows, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in READERS)


def read_page(path: Path) -> Page:
    """Read one article file into a :class:`Page`; raise :class:`PageError` listing every problem."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise PageError(path, [_at(None, f"no reader for '{path.suffix}' files")])
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PageError(path, [_at(None, f"cannot read: {e.strerror}")]) from None
    text, dropped = drop_control_characters(decode_source(path, raw))
    page = reader.read(path, text)
    if dropped:
        page = replace(page, warnings=tuple(
            warning(path, f"dropped control character{'s' if len(codes) > 1 else ''} "
                    + ", ".join(f"U+{c:04X}" for c in codes), line) for line, codes in dropped))
    return page


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0, less tab, newline and carriage return


def drop_control_characters(text: str) -> tuple[str, list[tuple[int, list[int]]]]:
    r"""``text`` without C0 control characters (tab and line endings stay), and what was dropped, by line.

    They are invisible, break captions and XML, and some (U+000B, U+000C) would even count as
    line breaks. Line numbers count newlines, as editors do.

    >>> drop_control_characters("Fever\x01 of 38\n\x0bC")
    ('Fever of 38\nC', [(1, [1]), (2, [11])])
    """
    dropped: dict[int, list[int]] = {}
    for m in _CONTROL.finditer(text):
        dropped.setdefault(text.count("\n", 0, m.start()) + 1, []).append(ord(m.group()))
    return (_CONTROL.sub("", text), sorted(dropped.items())) if dropped else (text, [])
