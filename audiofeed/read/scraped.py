"""The scraped format (``.txt``): the article pages as the source site shows them."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from .pages import _paragraphs, _parse_date, Answer, Page, PageError, Problem, _at, parse_runtime, slug_for


_FURNITURE = {"doctor image", "home-news-image", "00:00"}
_WRITTEN_BY = re.compile(r"^Written by\s+(?P<doctor>\S.*)$")
_UPDATED = re.compile(r"^Updated on\s+(?P<date>.+)$")
_RUNTIME_LINE = re.compile(r"^(?P<runtime>.*?)\s*(?:home-news-image)?$")
_OTHER_VOICES = "Other Voices"


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
