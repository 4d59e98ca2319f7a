"""The visual report of ``audiofeed check --html``: a :class:`~audiofeed.check.checker.CheckReport` in,
one self-contained HTML file out (inline style, SVG, no script, nothing from the network).

Per episode: a timeline of its chapters drawn to scale (a chapter whose readers disagree is
outlined in red), then a row per answer with its listed runtime and what every reader of
:data:`~audiofeed.check.checker.READERS` measured; values out of tolerance are marked in colour and
with a sign, and the status says what is wrong in words. With ``--listen``, each answer's
listening verdict and caption timing, the episode's caption timing, and a red tick on the
timeline at each caption cue more than half a second off.
"""

from __future__ import annotations

from .readers import READERS, CheckReport, CheckStatus
from ..timecode import clock
from .listen import describe_cue

COLOURS = ("#0e5c63", "#4f7cac")  # chapters alternate
STROKE = {CheckStatus.OK: ("#ffffff", 1), CheckStatus.WARNING: ("#8a5a00", 3), CheckStatus.MISMATCH: ("#b42318", 4)}


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
        timing = report.captions.get(slug)  # check --listen: the episode's captions against the words heard
        off = [{"x": min(1000.0, 1000 * start * 1000 / total), "label": describe_cue(start, text, offset)}
               for start, text, offset in (timing.off if timing else [])]
        out.append({"slug": slug, "rows": rows, "chapters": chapters, "total_ms": total,
                    "captions": timing.summary() if timing else None, "off_cues": off})
    return out


def html_report(report: CheckReport) -> str:
    from ..publish.site import environment

    tolerance = report.tolerance_ms
    return environment().get_template("report.html").render(
        report=report, episodes=episodes(report), readers=[r for r in READERS if r.column],
        off=lambda answer, reader: answer.off(reader, tolerance),
        reasons=lambda answer: answer.reasons(tolerance) + listening_reasons(answer))


def listening_reasons(answer) -> list[str]:
    """With ``--listen``: why an answer fails listening or its captions, in words."""
    from .listen import CUE_TOLERANCE

    verdict, off = answer.readings.get("heard_verdict"), answer.readings.get("captions_off")
    return ([f"heard: {verdict}"] if verdict and verdict != "ok" else []) + (
        [f"{off} caption cue(s) more than {CUE_TOLERANCE:g} s off"] if off else [])
