"""The command line: parse options, call one core function, render its result."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .channel import Channel
from .entry import Interrupted
from .defaults import RATE_BAND
from .names import ANSWERS_FILE, FEED_FILE, INDEX_FILE

DEFAULTS = Channel()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audiofeed")
def cli():
    """Turn health Q&A pages into podcast feeds whose durations match the listed runtimes."""


def _rate_band(ctx, param, value: str) -> tuple[int, int]:
    from .speech.engine import engine_type

    try:
        low, high = (int(x) for x in value.split("-"))
    except ValueError:
        raise click.BadParameter("expected LOW-HIGH words per minute, e.g. 100-240") from None
    floor, ceiling = engine_type().RATE_LIMITS
    if not floor <= low < high <= ceiling:
        raise click.BadParameter(f"the band must lie within {floor}-{ceiling} wpm, low below high")
    return low, high


@cli.command("build")
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
@click.option("--scheduler", metavar="ADDRESS",
              help="Render on a dask.distributed cluster: its scheduler's address, e.g. tcp://10.0.0.5:8786 "
                   "(needs pip install 'audiofeed[dask]'). [default: build.scheduler in audiofeed.toml, else "
                   "a local process pool]")
@click.option("--rate-band", callback=lambda c, p, v: None if v is None else _rate_band(c, p, v),
              help=f"Natural speaking rates, words per minute; answers needing more are refused. [default: {RATE_BAND[0]}-{RATE_BAND[1]}]")
def build_command(articles, output, config_path, base_url, jobs, force, cache_dir, title, description, author,
                  email, language, explicit, max_items, scheduler, rate_band):
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
    from .build.builder import BuildError, build

    options = build_options(
        articles, output, config_path, jobs=jobs, force=force, cache=cache_dir, rate_band=rate_band, scheduler=scheduler,
        channel={"title": title, "description": description, "author": author, "owner_email": email,
                 "language": language, "base_url": base_url, "explicit": explicit, "max_items": max_items},
    )
    err = Console(stderr=True)
    out = Console() if Console().is_terminal else Console(width=140)  # logs and pipes get full rows
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
        except (Interrupted, KeyboardInterrupt) as e:
            bar.stop()
            stop = Interrupted.of(e)
            err.print(f"interrupted ({stop.name}): {output}/ is left as it was before this build",
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


def print_problems(err: Console, problems) -> None:
    """One line per problem on stderr: errors as they are, warnings marked."""
    for p in problems:
        err.print(str(p) if p.is_error else f"warning: {p}", markup=False, highlight=False, soft_wrap=True)


def build_options(articles: Path, output: Path, config_path: Path | None = None, *, channel: dict | None = None,
                  jobs: int = 0, force: bool = False, cache: Path | None = None,
                  rate_band: tuple[int, int] | None = None, scheduler: str | None = None):
    """The build's options: ``audiofeed.toml`` (beside ARTICLES, or ``config_path``) under the
    command line's. The one place options are made: ``build`` and ``serve --watch`` both use it."""
    from .build.builder import BuildOptions

    config = _load_config(articles, config_path)
    fields = {**config.channel, **{k: v for k, v in (channel or {}).items() if v is not None}}
    if "base_url" in fields and not fields["base_url"].endswith("/"):
        fields["base_url"] += "/"
    return BuildOptions(
        articles=articles, output=output, channel=Channel(**fields), jobs=jobs,
        band=rate_band or config.rate_band, force=force, cache=cache,
        lexicon=tuple(config.lexicon.items()), normalize=config.normalize, pinned_voices=tuple(config.voices.items()),
        default_voice=config.default_voice, cover=config.cover, scheduler=scheduler or config.scheduler,
    )


def _load_config(articles: Path, explicit: Path | None):
    from .config import ConfigError, find_config, load_config
    from .speech.engine import speaker

    path = find_config(articles, explicit)
    try:
        return load_config(path, set(speaker().voices()) if path else None)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


@cli.command("say")
@click.argument("text")
@click.option("--phonemes", is_flag=True, help="Also print espeak-ng's phonemes for what is said.")
@click.option("-o", "--output", "mp3", type=click.Path(path_type=Path, dir_okay=False),
              help="Render it to this MP3 file, levelled as a build levels answers.")
@click.option("--voice", help="Voice for -o and --phonemes. [default: the first of the palette]")
@click.option("--rate", type=click.IntRange(80, 449), default=175, show_default=True, help="Words per minute for -o.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Configuration whose lexicon and [speech] settings apply. [default: audiofeed.toml here, if there]")
@click.option("--articles", type=click.Path(path_type=Path), default="articles", show_default=True,
              help="With no --config, the audiofeed.toml beside this folder applies.")
def say_command(text, phonemes, mp3, voice, rate, config_path, articles):
    """Show how TEXT will be spoken: after the health-text normalization and your lexicon.

    Prints the text as the engine will get it. --phonemes adds espeak-ng's phonemes, so you can
    see what it makes of units, ranges and abbreviations; -o renders it to an MP3 so you can
    listen before a build.

    \b
    Examples:
      audiofeed say "Take 2-4 mg b.i.d. if the fever is ≥ 38.5 °C."
      audiofeed say "Stage II, grade III" --phonemes
      audiofeed say "A 140/90 reading" -o sample.mp3 --voice gmw/en-gb-x-rp+f2
    """
    from .speech.verbalize import to_speak
    from .speech.engine import Lexicon, engine_type, speaker

    config = _load_config(articles, config_path)
    spoken, _ = to_speak(" ".join(text.split()), Lexicon(config.lexicon), config.normalize)
    click.echo(spoken)
    voice = voice or config.default_voice or engine_type().palette()[0]
    if not phonemes and mp3 is None:
        return
    engine = speaker()
    if not engine.known(voice, set(engine.voices())):
        raise click.BadParameter(f"unknown {engine.NAME} voice {voice!r} (ids look like {engine.VOICE_EXAMPLE})",
                                 param_hint="--voice")
    if phonemes:
        click.echo(engine.phonemes(spoken, voice))
    if mp3 is not None:
        from .build.rendering import level_and_encode
        from .storage import atomic_write

        speech = engine.speak(spoken, voice, rate)
        try:
            atomic_write(mp3, level_and_encode(speech.samples, speech.sample_rate)[0])
        except OSError as e:
            raise click.ClickException(f"{mp3}: cannot write: {e.strerror}") from None
        click.echo(f"wrote {mp3} ({speech.seconds:.1f} s, {voice}, {rate} wpm)", err=True)


@cli.command("init")
@click.argument("folder", type=click.Path(path_type=Path), default=".")
def init_command(folder):
    """Start a project in FOLDER (default: here): a commented audiofeed.toml and an example page.

    Writes FOLDER/audiofeed.toml and FOLDER/articles/example.md, and never overwrites a file.

    \b
    Example:
      audiofeed init my-podcast && cd my-podcast && audiofeed build
    """
    from .config import CONFIG_FILE, EXAMPLE_ARTICLE, TEMPLATE

    targets = {folder / CONFIG_FILE: TEMPLATE, folder / "articles" / "example.md": EXAMPLE_ARTICLE}
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        raise click.ClickException(f"{', '.join(existing)}: already there; not overwritten")
    from .storage import atomic_write

    for path, text in targets.items():
        atomic_write(path, text.encode())
        click.echo(f"wrote {path}")
    click.echo(f"next: edit {folder / CONFIG_FILE}, add pages to {folder / 'articles'}/, then run: audiofeed build")


def _seconds(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.3f} s"


def summary_table(report: BuildReport) -> Table:
    table = Table(title="Answers", title_justify="left")
    table.add_column("page", max_width=12, no_wrap=True, overflow="ellipsis")
    table.add_column("answer", min_width=12, max_width=34, no_wrap=True, overflow="ellipsis")
    for name in ("listed", "actual", "rate (wpm)", "silence added", "LUFS", "dBTP"):
        table.add_column(name, justify="right", min_width=5, no_wrap=True)
    table.add_column("status", min_width=7, overflow="fold")
    from .build.builder import AnswerStatus

    styles = {AnswerStatus.REFUSED: "red", AnswerStatus.FAILED: "red", AnswerStatus.PADDED: "yellow"}
    for a in report.answers:
        style = styles.get(a.status)
        table.add_row(
            a.page,
            f"{a.index}. {a.question}",
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


class _CheckCommand(click.Command):
    """``check``: its help lists the readers of :data:`~audiofeed.check.checker.READERS`, read when help is asked for."""

    def get_help(self, ctx):
        if "{readers}" in self.help:
            from .check.checker import READERS

            self.help = self.help.replace("{readers}", "\n    ".join(f"- {r.about};" for r in READERS))
        return super().get_help(ctx)


@cli.command("check", cls=_CheckCommand)
@click.argument("output", type=click.Path(path_type=Path), default="output")
@click.option("--articles", type=click.Path(path_type=Path), default="articles", show_default=True,
              help="Source pages, for the listed runtimes.")
@click.option("--json", "as_json", is_flag=True, help="One JSON record per answer, then the problems.")
@click.option("--csv", "as_csv", is_flag=True, help="One CSV row per answer (problems go to stderr).")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a visual report to this file: a timeline per episode and every reader's value, "
                   "self-contained (no script, nothing from the network).")
@click.option("--tolerance", type=click.FloatRange(min=0), default=None,
              help="Largest allowed difference from the listed runtime, in milliseconds. "
                   "[default: check.tolerance_ms in audiofeed.toml, else 30]")
def check_command(output, articles, as_json, as_csv, html_file, tolerance):
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
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    from .check.checker import check

    if tolerance is None:
        tolerance = _load_config(articles, None).tolerance_ms
    report = check(output, articles if articles.is_dir() else None, tolerance)
    if html_file is not None:
        from .check.report import html_report
        from .storage import atomic_write

        try:
            atomic_write(html_file, html_report(report).encode())
        except OSError as e:
            raise click.ClickException(f"{html_file}: cannot write the report: {e.strerror}") from None
    out, err = Console(), Console(stderr=True)
    if as_json:
        doc = {"output": str(output), "tolerance_ms": tolerance, "ok": report.ok, "answers": report.records(),
               "problems": [vars(p) for p in report.problems]}
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
            out = Console(width=170)
        out.print(check_table(report))
        for p in report.problems:
            err.print(f"[{'red' if p.is_error else 'yellow'}]{p.severity}[/]: ", end="")
            err.print(str(p), markup=False, highlight=False, soft_wrap=True)
        out.print(
            f"{len(report.answers)} answer(s) checked with tolerance {tolerance:g} ms: "
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)",
            highlight=False,
        )
    sys.exit(0 if report.ok else 1)


def check_table(report) -> Table:
    """The terminal table: a column per reader of :data:`~audiofeed.check.checker.READERS` that has one."""
    from .check.checker import READERS, CheckStatus, Compare

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
        reference = a.reference()

        def cell(reader, value):
            text = reader.text(value)
            if (reader.compare is Compare.RUNTIME and value is not None and reference is not None
                    and abs(value - reference) > report.tolerance_ms):
                return f"[bold red]{text}[/]"
            return text

        table.add_row(
            a.page, f"{a.index}. {a.question}", "-" if a.listed_ms is None else f"{a.listed_ms / 1000:.3f}",
            *(cell(r, a.readings.get(r.field)) for r in readers),
            status[a.status] + (f" ({'; '.join(a.notes)})" if a.notes else ""),
        )
    return table


@cli.command("serve")
@click.argument("output", type=click.Path(path_type=Path), default="output")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--watch", is_flag=True, help="Rebuild OUTPUT when a page in --articles changes.")
@click.option("--articles", type=click.Path(path_type=Path), default="articles", show_default=True,
              help="Pages to rebuild from with --watch.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Configuration for --watch rebuilds. [default: audiofeed.toml beside --articles, if there]")
def serve_command(output, host, port, watch, articles, config_path):
    """Serve OUTPUT (default: output/) over HTTP for podcast apps and browsers.

    Serves the right types (audio/mpeg, application/rss+xml, application/json+chapters,
    text/vtt). It answers Range requests with 206 so that players can seek, and answers HEAD.
    It never serves a file outside OUTPUT. Stop it with Ctrl-C.

    \b
    Examples:
      audiofeed serve output
      audiofeed serve output --host 0.0.0.0 --port 8080 --watch
    """
    import asyncio

    from .serving import serve

    if not output.is_dir():
        raise click.ClickException(f"{output}: no such folder; run 'audiofeed build' first")
    err = Console(stderr=True)

    def ready(url: str) -> None:
        click.echo(f"Serving {output}/ at {url}")
        click.echo(f"  player:        {url}{INDEX_FILE}")
        click.echo(f"  episodes feed: {url}{FEED_FILE}")
        click.echo(f"  answers feed:  {url}{ANSWERS_FILE}")
        built_for = _built_base_url(output)
        if built_for and built_for != url:
            click.echo(f"  note: the feeds were built for {built_for}; apps will fetch the audio from there "
                       f"(rebuild with --base-url {url} to point them here)")
        click.echo("Press Ctrl-C to stop.", nl=True)
        sys.stdout.flush()

    async def main_loop(url_holder: list[str]) -> None:
        tasks = [asyncio.create_task(serve(output, host, port, lambda u: (url_holder.append(u), ready(u))))]
        if watch:
            tasks.append(asyncio.create_task(_watch(articles, output, config_path, url_holder, err)))
        await asyncio.gather(*tasks)

    try:
        asyncio.run(main_loop([]))
    except (Interrupted, KeyboardInterrupt):
        click.echo("stopped")
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None


def _built_base_url(output: Path) -> str | None:
    import re

    try:
        head = (output / FEED_FILE).read_text(encoding="utf-8")[:5000]
    except OSError:
        return None
    m = re.search(f'<atom:link href="([^"]+){re.escape(FEED_FILE)}" rel="self"', head)
    return m.group(1) if m else None


async def _watch(articles: Path, output: Path, config_path: Path | None, url_holder: list[str], err: Console) -> None:
    import asyncio

    from watchfiles import awatch

    from .build.builder import BuildError, build

    async for changes in awatch(articles):
        # Exactly what `audiofeed build ARTICLES -o OUTPUT` would do; the feeds keep pointing where
        # they were built for (the configuration's base_url, else the last build's, else here).
        try:
            configured = _load_config(articles, config_path).channel.get("base_url")
            base = None if configured else (_built_base_url(output) or (url_holder[0] if url_holder else None))
            options = build_options(articles, output, config_path, channel={"base_url": base})
        except click.ClickException as e:
            err.print(f"rebuild skipped: {e.message}", markup=False, soft_wrap=True)
            continue
        try:
            report = await asyncio.to_thread(build, options)
        except BuildError as e:
            err.print(f"rebuild failed: {e}", markup=False, soft_wrap=True)
            continue
        print_problems(err, report.problems)
        err.print(f"rebuilt after {len(changes)} change(s): {report.pages_built} page(s) in {report.seconds:.1f} s",
                  highlight=False)


def main() -> None:
    cli(prog_name="audiofeed")
