"""The authoring format (``.md``): Markdown with YAML front matter."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

from .pages import _paragraphs, _parse_date, Answer, Page, PageError, Problem, _at, parse_runtime, slug_for


_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])"), r"\2"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),  # code
]


@cache
def _front_matter_loader():
    """A safe YAML loader for front matter that refuses aliases and keeps dates as text.

    - Aliases (``*name``) are refused: nested ones expand exponentially (an "alias bomb" of a few
      lines took minutes and gigabytes), and front matter never needs them.
    - Timestamps are not resolved: ``date: 2025-13-45`` would be a ValueError inside the parser;
      as text, the page's own date rule reads it and names its line.
    """
    import yaml

    class FrontMatterLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.MarkedYAMLError(problem="aliases (*name) are not allowed in front matter",
                                           problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)

    FrontMatterLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return FrontMatterLoader


MAX_IMAGE_BYTES = 2 << 20  # a page's image goes into each of its MP3s (scaled) and every app's listing


def image_problem(path: Path | None) -> str | None:
    """Why ``path`` is not an image a page may name (None if it is): a PNG or JPEG file by its
    bytes, beside the page or below it, of at most :data:`MAX_IMAGE_BYTES`."""
    try:
        if path is None or not path.is_file() or path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            return "is not a PNG or JPEG file (paths are relative to the page)"
        if path.stat().st_size > MAX_IMAGE_BYTES:
            return f"has more than {MAX_IMAGE_BYTES >> 20} MiB"
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if not head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return "is not a PNG or JPEG image by its bytes"
    return None


def _key_line(lines: list[str], key: str, default: int = 1) -> int:
    """The 1-based line of a top-level front matter ``key``, or ``default``."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    return next((i for i, ln in enumerate(lines, start=1) if pattern.match(ln)), default)


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
    PAGE_KEYS = {"title", "date", "doctor", "specialty", "answers", "guid", "image"}
    ANSWER_KEYS = {"question", "doctor", "specialty", "runtime"}

    def read(self, path: Path, text: str) -> Page:
        import yaml

        problems: list[Problem] = []
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            raise PageError(path, [_at(1, "expected front matter: a first line '---', then title, date, doctor...")])
        end = next((i for i, ln in enumerate(lines[1:], start=2) if ln.strip() == "---"), None)
        if end is None:
            raise PageError(path, [_at(1, "front matter has no closing '---' line")])
        try:
            meta = yaml.load("\n".join(lines[1 : end - 1]), Loader=_front_matter_loader()) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise PageError(path, [_at(mark.line + 2 if mark else 1, f"front matter is not valid YAML: {getattr(e, 'problem', e)}")]) from None
        if not isinstance(meta, dict):
            raise PageError(path, [_at(2, "front matter must be keys and values (title: ..., date: ...)")])
        body_start = end + 1

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
        if raw_date is None:
            problems.append(_at(1, "missing 'date'"))
        else:
            try:
                updated = _parse_date(str(raw_date))
            except ValueError as e:
                problems.append(_at(_key_line(lines[:end], "date"), str(e)))
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
        by_question: dict[str, tuple[int, list[tuple[int, str]]]] = {}
        for line, h, body in sections:
            if _plain(h) in by_question:  # one would be dropped silently: say so instead
                problems.append(_at(line, f"a second '## {h}' section (the first is at line "
                                          f"{by_question[_plain(h)][0]}); each question may be answered once"))
            else:
                by_question[_plain(h)] = (line, body)
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
            if _plain(question) in listed:
                problems.append(_at(_key_line(lines[:end], "answers"),
                                    f"answers[{n}]: {question!r} is listed twice; each question may be answered once"))
                continue
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
        image = None
        if meta.get("image") is not None:
            value = meta["image"]
            image = (path.parent / value).resolve() if isinstance(value, str) and value.strip() and "\0" not in value else None
            if why := image_problem(image):
                problems.append(_at(_key_line(lines, "image"), f"image: {str(value)[:80]!r} {why}"))
        if problems:
            raise PageError(path, problems)
        guid = str(meta["guid"]).strip() if meta.get("guid") is not None else None
        return Page(source=path, slug=slug_for(path), title=_plain(title), doctor=doctor, specialty=specialty,
                    updated=updated, answers=tuple(answers), guid=guid or None, image=image)
