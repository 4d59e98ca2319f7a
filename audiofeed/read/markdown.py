"""The authoring format (``.md``): Markdown with YAML front matter."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from .pages import _paragraphs, _parse_date, Answer, Page, PageError, Problem, _at, parse_runtime, slug_for


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
