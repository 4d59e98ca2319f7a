"""The command line: parse options, call one core function, render its result."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .builder import BuildError, BuildOptions, BuildReport, build
from .fitting import RATE_BAND
from .publishing import Channel

DEFAULTS = Channel()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audiofeed")
def cli():
    """Turn health Q&A pages into podcast feeds whose durations match the listed runtimes."""


def _rate_band(ctx, param, value: str) -> tuple[int, int]:
    try:
        low, high = (int(x) for x in value.split("-"))
    except ValueError:
        raise click.BadParameter("expected LOW-HIGH words per minute, e.g. 100-240") from None
    if not 80 <= low < high <= 449:
        raise click.BadParameter("the band must lie within 80-449 wpm, low below high")
    return low, high


@cli.command("build")
@click.argument("articles", type=click.Path(path_type=Path), default="articles")
@click.option("-o", "--output", type=click.Path(path_type=Path), default="output", show_default=True,
              help="Folder to publish into (replaced as a whole when the build succeeds).")
@click.option("--base-url", default=DEFAULTS.base_url, show_default=True,
              help="Public URL of the output folder; enclosures and feed links start with it.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default="all cores",
              help="Answers rendered in parallel.")
@click.option("--title", default=DEFAULTS.title, show_default=True, help="Podcast title.")
@click.option("--description", default=DEFAULTS.description, help="Podcast description.")
@click.option("--author", default=DEFAULTS.author, show_default=True, help="Podcast author and owner name.")
@click.option("--email", default=DEFAULTS.owner_email, show_default=True, help="Owner e-mail (itunes:owner).")
@click.option("--language", default=DEFAULTS.language, show_default=True, help="Feed language (RFC 5646).")
@click.option("--explicit/--not-explicit", default=DEFAULTS.explicit, show_default=True,
              help="itunes:explicit for the show and every episode.")
@click.option("--rate-band", default=f"{RATE_BAND[0]}-{RATE_BAND[1]}", show_default=True, callback=_rate_band,
              help="Natural speaking rates, words per minute. Answers needing more are refused.")
def build_command(articles, output, base_url, jobs, title, description, author, email, language, explicit, rate_band):
    """Build podcast feeds and MP3s from the pages in ARTICLES (default: articles/).

    Every doctor's answer is spoken with a voice of its own and fitted to exactly its listed
    runtime. Writes OUTPUT/feed.xml (an episode per page, a chapter per answer),
    OUTPUT/answers.xml (an episode per answer) and the MP3s, chapters and cover they link to.
    Pages with problems are reported (FILE:LINE: what is wrong) and skipped; the rest are
    built, and the command exits with status 1.

    \b
    Example:
      audiofeed build articles -o output --base-url https://example.org/podcast/
    """
    if not base_url.endswith("/"):
        base_url += "/"
    channel = Channel(
        title=title, description=description, author=author, owner_email=email,
        language=language, base_url=base_url, explicit=explicit,
    )
    options = BuildOptions(articles=articles, output=output, channel=channel, jobs=jobs, band=rate_band)
    err = Console(stderr=True)
    out = Console() if Console().is_terminal else Console(width=120)  # logs and pipes get full rows
    with Progress(
        TextColumn("[bold]Building"), BarColumn(), MofNCompleteColumn(), TextColumn("answers"),
        TimeElapsedColumn(), TextColumn("{task.description}"),
        console=err, disable=not err.is_terminal, transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label[:40])

        try:
            report = build(options, progress)
        except BuildError as e:
            raise click.ClickException(str(e)) from None
        except KeyboardInterrupt:
            bar.stop()
            err.print(f"interrupted: {output}/ is left as it was before this build", highlight=False)
            sys.exit(130)
    for line in report.problems:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    out.print(summary_table(report))
    out.print(
        f"{report.pages_built} page(s), {len(report.answers)} answer(s) built into {report.output}/ "
        f"in {report.seconds:.1f} s; feeds: {report.output}/feed.xml, {report.output}/answers.xml"
        + (f"; {len(report.problems)} problem(s)" if report.problems else ""),
        highlight=False,
    )
    sys.exit(0 if report.ok else 1)


def _seconds(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.3f} s"


def summary_table(report: BuildReport) -> Table:
    table = Table(title="Answers", title_justify="left")
    table.add_column("page", max_width=12, no_wrap=True, overflow="ellipsis")
    table.add_column("answer", min_width=12, max_width=34, no_wrap=True, overflow="ellipsis")
    for name in ("listed", "actual", "rate (wpm)", "silence added"):
        table.add_column(name, justify="right", min_width=8, no_wrap=True)
    table.add_column("status", min_width=7, overflow="fold")
    for a in report.answers:
        style = {"refused": "red", "padded": "yellow"}.get(a.status)
        table.add_row(
            a.page,
            f"{a.index}. {a.question}",
            "-" if a.listed is None else f"{a.listed} s",
            _seconds(a.actual_ms),
            "-" if a.rate is None else str(a.rate),
            "-" if a.silence_added is None else f"{a.silence_added:+.2f} s",
            a.status + (f": {a.message}" if a.message and a.status != "lead" else ""),
            style=style,
        )
    return table


def main() -> None:
    cli(prog_name="audiofeed")
