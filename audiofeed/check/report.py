"""The visual report of ``audiofeed check --html``: a :class:`~audiofeed.check.checker.CheckReport` in,
one self-contained HTML file out (inline style, SVG, no script, nothing from the network).

Per episode: a timeline of its chapters drawn to scale (a chapter whose readers disagree is
outlined in red), then a row per answer with its listed runtime and what every reader of
:data:`~audiofeed.check.checker.READERS` measured; values out of tolerance are marked in colour and
with a sign, and the status says what is wrong in words.
"""

from __future__ import annotations

from .checker import READERS, CheckReport, CheckStatus, Compare
from ..timecode import clock

COLOURS = ("#0e5c63", "#4f7cac")  # chapters alternate
STROKE = {CheckStatus.OK: ("#ffffff", 1), CheckStatus.WARNING: ("#8a5a00", 3), CheckStatus.MISMATCH: ("#b42318", 4)}


def _off(report: CheckReport):
    def off(answer, reader) -> bool:
        value, reference = answer.readings.get(reader.field), answer.reference()
        return (reader.compare is Compare.RUNTIME and value is not None and reference is not None
                and abs(value - reference) > report.tolerance_ms)
    return off


def episodes(report: CheckReport) -> list[dict]:
    """Per page: its answers in order, and its chapters laid out on a 1,000-unit-wide timeline."""
    pages: dict[str, list] = {}
    for a in report.answers:
        pages.setdefault(a.page, []).append(a)
    out = []
    for slug, rows in sorted(pages.items()):
        rows.sort(key=lambda a: a.index)
        lengths = [a.readings.get("decoded_ms") or a.listed_ms or 0 for a in rows]
        total = rows[0].readings.get("page_decoded_ms") or sum(lengths) or 1
        chapters, at = [], 0.0
        for k, (a, length) in enumerate(zip(rows, lengths)):
            stroke, width = STROKE[a.status]
            chapters.append({"x": 1000 * at / total, "w": max(1.0, 1000 * length / total), "fill": COLOURS[k % 2],
                             "stroke": stroke, "stroke_width": width, "index": a.index, "start": clock(at),
                             "label": f"{a.index}. {a.question} ({a.doctor}): {length / 1000:.3f} s, {a.status}"})
            at += length
        out.append({"slug": slug, "rows": rows, "chapters": chapters, "total_ms": total})
    return out


def _reasons(report: CheckReport):
    off = _off(report)

    def reasons(answer) -> list[str]:
        """Each reader out of tolerance, in words: "TLEN says 45.000 s, listed 39.000 s"."""
        what = "listed" if answer.listed_ms is not None else "decoded"
        return [f"{r.label} says {answer.readings[r.field] / 1000:.3f} s, {what} {answer.reference() / 1000:.3f} s"
                for r in READERS if off(answer, r)]
    return reasons


def html_report(report: CheckReport) -> str:
    from ..publish.site import _env

    return _env().get_template("report.html").render(report=report, episodes=episodes(report), off=_off(report),
                                                    reasons=_reasons(report), readers=[r for r in READERS if r.column])
