"""``audiofeed check``: every duration a listener sees, as a table, JSON, CSV or an HTML report."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..check.listen import CUE_TOLERANCE
from ..defaults import MAX_TOLERANCE_MS, TOLERANCE_MS
from .common import load_settings


class _CheckCommand(click.Command):
    """``check``: its help lists the readers of :data:`~audiofeed.check.checker.READERS`, read when help is asked for."""

    def get_help(self, ctx):
        if "{readers}" in self.help:
            from ..check.readers import READERS

            self.help = self.help.replace("{readers}", "\n    ".join(f"- {r.about};" for r in READERS))
        return super().get_help(ctx)


def _finite(ctx, param, value):
    """click's FloatRange lets nan through (no comparison with nan is true)."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of milliseconds")
    return value


@click.command("check", cls=_CheckCommand)
@click.argument("output", type=click.Path(path_type=Path), default="output")
@click.option("--articles", type=click.Path(path_type=Path), default="articles", show_default=True,
              help="Source pages, for the listed runtimes.")
@click.option("--json", "as_json", is_flag=True, help="One JSON record per answer, then the problems.")
@click.option("--csv", "as_csv", is_flag=True, help="One CSV row per answer (problems go to stderr).")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a visual report to this file: a timeline per episode and every reader's value, "
                   "self-contained (no script, nothing from the network).")
@click.option("--tolerance", type=click.FloatRange(min=0, max=MAX_TOLERANCE_MS), default=None, callback=_finite,
              help="Largest allowed difference from the listed runtime, in milliseconds. "
                   f"[default: check.tolerance_ms in audiofeed.toml, else {TOLERANCE_MS:g}]")
@click.option("--listen", is_flag=True,
              help="Also hear every answer with an automatic listener (pocketsphinx) and fail one that says another "
                   f"answer's words, is silent or is cut short, and a caption cue that starts more than {CUE_TOLERANCE:g} s "
                   "from where its first word is heard. About 9 CPU seconds per minute of audio, on every "
                   "core; answers already heard are not heard again. Needs pip install 'audiofeed[listen]'.")
def check_command(output, articles, as_json, as_csv, html_file, tolerance, listen):
    """Check every duration a listener sees in a published OUTPUT folder (default: output/).

    Reads the files as podcast apps and players do. For every answer it reports the listed
    runtime (from the source page) next to what each reader says:

    \b
    {readers}

    Every chapter start (CHAP, chapters JSON, psc:chapters) is compared with where its
    answer's audio starts in the decoded episode.

    It exits with status 1 if a duration is out of tolerance, an enclosure length is not the
    file's size, a file is missing or unreadable, chapters are out of order or overlap, a feed
    does not parse, or a GUID is used twice. Fast speech (over 180 wpm), heavy padding (over 20%
    silence) and answers refused at build time are warnings.

    \b
    Examples:
      audiofeed check output
      audiofeed check output --json > durations.json
      audiofeed check output --csv --tolerance 20 > durations.csv
      audiofeed check output --html report.html
      audiofeed check output --listen
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    from ..check.checker import check

    if tolerance is None:
        tolerance = load_settings(articles, None).tolerance_ms
    if listen:
        try:
            import jiwer  # noqa: F401
            import pocketsphinx  # noqa: F401
        except ImportError:
            raise click.ClickException("--listen needs the automatic listener: pip install 'audiofeed[listen]'") from None
    report = check(output, articles if articles.is_dir() else None, tolerance, listen=listen)
    if html_file is not None:
        from ..check.report import html_report
        from ..storage import atomic_write

        try:
            atomic_write(html_file, html_report(report).encode())
        except OSError as e:
            raise click.ClickException(f"{html_file}: cannot write the report: {e.strerror}") from None
    out, err = Console(emoji=False), Console(stderr=True, emoji=False)
    if as_json:
        doc = {"output": str(output), "tolerance_ms": tolerance, "ok": report.ok, "answers": report.records(),
               "problems": [vars(p) for p in report.problems]}
        if report.captions:  # --listen: each episode's captions against the words heard
            doc["captions"] = {slug: timing.record() for slug, timing in sorted(report.captions.items())}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif as_csv:
        records = report.records()
        writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]) if records else ["page"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        for p in report.problems:
            click.echo(f"{p.severity}: {p}", err=True)
    else:
        if not out.is_terminal:
            out = Console(width=170, emoji=False)
        out.print(check_table(report))
        for slug, timing in sorted(report.captions.items()):
            out.print(f"captions in time, {slug}: {timing.summary()}", markup=False, highlight=False)
        for p in report.problems:
            err.print(f"[{'red' if p.is_error else 'yellow'}]{p.severity}[/]: ", end="")
            err.print(str(p), markup=False, highlight=False, soft_wrap=True)
        out.print(
            f"{len(report.answers)} answer(s) checked with tolerance {tolerance:g} ms"
            + (f", {report.listened} heard" if report.listened is not None else "") + ": "
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)",
            highlight=False,
        )
    sys.exit(0 if report.ok else 1)


def check_table(report) -> Table:
    """The terminal table: a column per reader of :data:`~audiofeed.check.checker.READERS` that has one."""
    from ..check.readers import READERS, CheckStatus

    readers = [r for r in READERS if r.column]
    table = Table(title="Durations (seconds) by reader", title_justify="left")
    table.add_column("page", max_width=12, no_wrap=True, overflow="ellipsis")
    table.add_column("answer", max_width=24, no_wrap=True, overflow="ellipsis")
    table.add_column("listed", justify="right", no_wrap=True)
    for reader in readers:
        table.add_column(reader.column, justify="right", no_wrap=True)
    table.add_column("status", min_width=8, overflow="fold")
    status = {CheckStatus.OK: "ok", CheckStatus.WARNING: "[yellow]warning[/]", CheckStatus.MISMATCH: "[bold red]mismatch[/]"}
    for a in report.answers:
        def cell(reader, value):
            text = reader.text(value)
            return f"[bold red]{text}[/]" if a.off(reader, report.tolerance_ms) else text

        table.add_row(
            a.page, Text(f"{a.index}. {a.question}"), "-" if a.listed_ms is None else f"{a.listed_ms / 1000:.3f}",
            *(cell(r, a.readings.get(r.field)) for r in readers),
            status[a.status] + (f" ({'; '.join(a.notes)})" if a.notes else ""),
        )
    return table


