"""``audiofeed build`` and ``audiofeed init``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..defaults import BITRATES_KBPS, RATE_BAND
from ..exits import BUSY
from ..interrupts import Interrupted, stopped_message
from ..names import ANSWERS_FILE, FEED_FILE
if TYPE_CHECKING:
    from ..build.builder import BuildReport
from .common import DEFAULTS, _rate_band, build_options, engine_option, print_problems


@click.command("build")
@click.argument("articles", type=click.Path(path_type=Path), default="articles")
@click.option("-o", "--output", type=click.Path(path_type=Path), default="output", show_default=True,
              help="Folder to publish into (replaced as a whole when the build succeeds).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Configuration file. [default: audiofeed.toml beside ARTICLES, if there]")
@click.option("--base-url", help=f"Public URL of the output folder. [default: {DEFAULTS.base_url}]")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default="all cores",
              help="Answers rendered in parallel.")
@click.option("--force", is_flag=True, help="Render everything again, ignoring the last build and the cache.")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path),
              help="Cache of rendered answers. [default: .audiofeed-cache beside OUTPUT]")
@click.option("--title", help=f"Podcast title. [default: {DEFAULTS.title}]")
@click.option("--description", help="Podcast description.")
@click.option("--author", help=f"Podcast author and owner name. [default: {DEFAULTS.author}]")
@click.option("--email", help=f"Owner e-mail (itunes:owner). [default: {DEFAULTS.owner_email}]")
@click.option("--language", help=f"Feed language (RFC 5646). [default: {DEFAULTS.language}]")
@click.option("--explicit/--not-explicit", default=None, help="itunes:explicit for the show and every episode. [default: not explicit]")
@click.option("--max-items", type=click.IntRange(min=0), default=None,
              help="Items each feed lists at most, newest first; older episodes stay published and on the web "
                   "pages. [default: feed.max_items in audiofeed.toml, else 0: every one]")
@click.option("--bitrate", "kbps", type=click.Choice([str(k) for k in BITRATES_KBPS]), default=None,
              help="MP3 bit rate in kbit/s. 64 is plenty for speech and above Apple's minimum for mono; "
                   "Apple recommends 96-128 for mono uploads. [default: build.bitrate_kbps in audiofeed.toml, else 64]")
@click.option("--scheduler", metavar="ADDRESS",
              help="Render on a dask.distributed cluster: its scheduler's address, e.g. tcp://10.0.0.5:8786 "
                   "(needs pip install 'audiofeed[dask]'). [default: build.scheduler in audiofeed.toml, else "
                   "a local process pool]")
@engine_option("to speak with")
@click.option("--rate-band", callback=_rate_band,
              help=f"Natural speaking rates, words per minute; answers needing more are refused. [default: {RATE_BAND[0]}-{RATE_BAND[1]}]")
def build_command(articles, output, config_path, base_url, jobs, force, cache_dir, title, description, author,
                  email, language, explicit, max_items, kbps, scheduler, engine, rate_band):
    """Build podcast feeds, MP3s and web pages from the pages in ARTICLES (default: articles/).

    Every doctor's answer is spoken with a voice of its own and fitted to exactly its listed
    runtime. Writes OUTPUT/feed.xml (an episode per page, a chapter per answer),
    OUTPUT/answers.xml (an episode per answer), and the MP3s, chapters, transcripts, player
    pages and cover they link to. Pages are read from .txt (the scraped format) and .md
    (Markdown with front matter). Settings come from audiofeed.toml beside ARTICLES
    (`audiofeed init` writes one), and these options override it.

    Rebuilds are incremental: pages that did not change are kept as they are, and answers
    rendered before come from the cache. Pages with problems are reported (FILE:LINE: what is
    wrong) and skipped, and the command then exits with status 1.

    \b
    Examples:
      audiofeed build articles -o output --base-url https://example.org/podcast/
      audiofeed build articles -o output --scheduler tcp://10.0.0.5:8786   # on a dask cluster
    """
    from ..build.builder import BuildError, build
    from ..problems import OutputBusy

    options = build_options(
        articles, output, config_path, jobs=jobs, force=force, cache=cache_dir, rate_band=rate_band, scheduler=scheduler,
        kbps=int(kbps) if kbps else None,
        engine=engine,
        channel={"title": title, "description": description, "author": author, "owner_email": email,
                 "language": language, "base_url": base_url, "explicit": explicit, "max_items": max_items},
    )
    err = Console(stderr=True, emoji=False)
    out = Console(emoji=False) if Console().is_terminal else Console(width=140, emoji=False)  # logs and pipes get full rows
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
        except OutputBusy as e:  # its own status: trying again later will work (serve --watch does)
            bar.stop()
            err.print(f"Error: {e}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(BUSY)
        except BuildError as e:
            raise click.ClickException(str(e)) from None
        except (Interrupted, KeyboardInterrupt) as e:
            bar.stop()
            stop = Interrupted.of(e)
            err.print(stopped_message(stop, str(output)),
                      markup=False, highlight=False, soft_wrap=True)
            sys.exit(stop.exit_status)
    print_problems(err, report.problems)
    if report.answers:
        out.print(summary_table(report))
    if report.nothing_changed:
        summary = f"Nothing changed since the last build: {report.output}/ is left as it was (checked in {report.seconds:.1f} s)"
    else:
        summary = (
            f"{report.pages_built} page(s) built, {report.pages_unchanged} unchanged"
            + (f", {report.pages_removed} removed" if report.pages_removed else "")
            + (f", {report.pages_kept} kept from the last build" if report.pages_kept else "")
            + f"; {report.answers_rendered} answer(s) rendered, {report.answers_cached} from the cache"
            + (f" ({report.second_passes} of those rendered needed a second synthesis)" if report.answers_rendered else "")
            + (f" on {report.rendered_on}" if report.answers_rendered else "")
            + ";"
            f" {report.output}/ in {report.seconds:.1f} s; feeds: {report.output}/{FEED_FILE}, {report.output}/{ANSWERS_FILE}"
        )
    out.print(summary + (f"; {len(report.errors)} problem(s)" if report.errors else ""), highlight=False)
    sys.exit(0 if report.ok else 1)


def _seconds(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.3f} s"


def summary_table(report: BuildReport) -> Table:
    table = Table(title="Answers", title_justify="left")
    table.add_column("page", max_width=12, no_wrap=True, overflow="ellipsis")
    table.add_column("answer", min_width=12, max_width=34, no_wrap=True, overflow="ellipsis")
    for name in ("listed", "actual", "rate (wpm)", "silence added", "LUFS", "dBTP"):
        table.add_column(name, justify="right", min_width=5, no_wrap=True)
    table.add_column("status", min_width=7, overflow="fold")
    from ..build.builder import AnswerStatus

    styles = {AnswerStatus.REFUSED: "red", AnswerStatus.FAILED: "red", AnswerStatus.PADDED: "yellow"}
    for a in report.answers:
        style = styles.get(a.status)
        table.add_row(
            a.page,
            Text(f"{a.index}. {a.question}"),  # as written: a question is not markup
            "-" if a.listed is None else f"{a.listed} s",
            _seconds(a.actual_ms),
            "-" if a.rate is None else str(a.rate),
            "-" if a.silence_added is None else f"{a.silence_added:+.2f} s",
            "-" if a.loudness is None else f"{a.loudness:.1f}",
            "-" if a.true_peak is None else f"{a.true_peak:.1f}",
            a.status + (f": {a.message}" if a.message and a.status is not AnswerStatus.LEAD else ""),
            style=style,
        )
    return table


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path), default=".")
def init_command(folder):
    """Start a project in FOLDER (default: here): a commented audiofeed.toml and an example page.

    Writes FOLDER/audiofeed.toml and FOLDER/articles/example.md, and never overwrites a file.

    \b
    Example:
      audiofeed init my-podcast && cd my-podcast && audiofeed build
    """
    from ..config import CONFIG_FILE, EXAMPLE_ARTICLE, TEMPLATE

    targets = {folder / CONFIG_FILE: TEMPLATE, folder / "articles" / "example.md": EXAMPLE_ARTICLE}
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        raise click.ClickException(f"{', '.join(existing)}: already there; not overwritten")
    from ..storage import atomic_write

    for path, text in targets.items():
        try:
            atomic_write(path, text.encode())
        except OSError as e:
            blocker = next((p for p in [path.parent, *path.parent.parents] if p.exists() and not p.is_dir()), None)
            raise click.ClickException(f"{blocker}: is a file, so {folder} cannot be a project folder" if blocker
                                       else f"{path}: cannot write ({e.strerror or e})") from None
        click.echo(f"wrote {path}")
    click.echo(f"next: edit {folder / CONFIG_FILE}, add pages to {folder / 'articles'}/, then run: audiofeed build")


