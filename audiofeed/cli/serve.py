"""``audiofeed serve``: the output over HTTP, rebuilt on change with ``--watch``."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click
from rich.console import Console

from ..exits import BUSY
from ..interrupts import Interrupted
from ..defaults import IDLE_TIMEOUT
from ..names import ANSWERS_FILE, FEED_FILE, INDEX_FILE
from .common import engine_option, load_settings


@click.command("serve")
@click.argument("output", type=click.Path(path_type=Path), default="output")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--watch", is_flag=True, help="Rebuild OUTPUT when a page in --articles changes.")
@click.option("--articles", type=click.Path(path_type=Path), default="articles", show_default=True,
              help="Pages to rebuild from with --watch.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Configuration for --watch rebuilds. [default: audiofeed.toml beside --articles, if there]")
@click.option("--idle-timeout", type=click.FloatRange(min=0.1, max=3600), default=IDLE_TIMEOUT, show_default=True,
              help="Seconds a connection may take to send a request, or stay idle between requests.")
@engine_option("for --watch rebuilds")
def serve_command(output, host, port, watch, articles, config_path, engine, idle_timeout):
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

    from ..build.output import built_base_url
    from ..serving import serve

    if not output.is_dir():
        raise click.ClickException(f"{output}: no such folder; run 'audiofeed build' first")
    err = Console(stderr=True, emoji=False)

    def ready(url: str) -> None:
        click.echo(f"Serving {output}/ at {url}")
        click.echo(f"  player:        {url}{INDEX_FILE}")
        click.echo(f"  episodes feed: {url}{FEED_FILE}")
        click.echo(f"  answers feed:  {url}{ANSWERS_FILE}")
        built_for = built_base_url(output)
        if built_for and built_for != url:
            click.echo(f"  note: the feeds were built for {built_for}; apps will fetch the audio from there "
                       f"(rebuild with --base-url {url} to point them here)")
        click.echo("Press Ctrl-C to stop.", nl=True)
        sys.stdout.flush()

    if watch and not articles.is_dir():
        raise click.ClickException(f"{articles}: no such folder of articles to watch (--articles)")
    stop: list[int] = []  # the signal that stopped the server

    async def main_loop(url_holder: list[str]) -> None:
        # Ctrl-C and SIGTERM cancel the server through the event loop: raised from the handler,
        # the stop could land inside one of asyncio's callbacks, which only logs it and goes on.
        import signal

        loop, me = asyncio.get_running_loop(), asyncio.current_task()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda sig=sig: (stop.append(sig), me.cancel()))
        tasks = [asyncio.create_task(serve(output, host, port, lambda u: (url_holder.append(u), ready(u)), idle_timeout))]
        if watch:
            tasks.append(asyncio.create_task(_watch(articles, output, config_path, engine, url_holder, err)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # a rebuild in progress is stopped first

    try:
        asyncio.run(main_loop([]))
    except (Interrupted, KeyboardInterrupt, asyncio.CancelledError) as e:
        signum = stop[0] if stop else Interrupted.of(e).signum if not isinstance(e, asyncio.CancelledError) else 2
        click.echo("stopped", err=True)
        sys.exit(128 + signum)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


BUILD_SUMMARY = re.compile(r"^(\d+) page\(s\) built")


async def _watch(articles: Path, output: Path, config_path: Path | None, engine: str | None, url_holder: list[str],
                 err: Console) -> None:
    """Rebuild OUTPUT whenever a page under ARTICLES changes, or ARTICLES itself is replaced (moved
    aside and a fresh copy put in its place: a deploy, a restore).

    Each rebuild is ``audiofeed build`` in a process of its own, exactly as a producer runs it: a
    rebuild that fails in any way is its own lines on stderr, never the server's end; a stop
    (Ctrl-C, SIGTERM) stops the rebuild at once, which publishes nothing after it.
    """
    import asyncio

    from ..build.output import built_base_url

    changes: asyncio.Queue = asyncio.Queue()
    watcher = asyncio.create_task(_changes(articles, changes))
    try:
        while True:
            count = await changes.get()
            while not changes.empty():  # changes that came together make one rebuild
                count += changes.get_nowait()
            try:
                configured = load_settings(articles, config_path, engine).channel.get("base_url")
            except click.ClickException as e:
                err.print(f"rebuild skipped: {e.message}", markup=False, soft_wrap=True)
                continue
            base = None if configured else (built_base_url(output) or (url_holder[0] if url_holder else None))
            args = [str(articles), "-o", str(output), *(["--config", str(config_path)] if config_path else []),
                    *(["--engine", engine] if engine else []), *(["--base-url", base] if base else [])]
            while True:
                code, lines = await _build(args, err)
                if code != BUSY:
                    break
                err.print(f"rebuild waiting: another build is writing {output}/; rebuilding when it is done",
                          markup=False, soft_wrap=True)
                await asyncio.to_thread(_wait_for, str(output.with_name(f".{output.name}.lock")))
            if code == 0 or any(BUILD_SUMMARY.match(line) or line.startswith("Nothing changed") for line in lines):
                built = next((int(m.group(1)) for line in lines if (m := BUILD_SUMMARY.match(line))), 0)
                err.print(f"rebuilt after {count} change(s): {built} page(s)" + (" (with problems)" if code else ""),
                          highlight=False)
            else:
                err.print(f"rebuild failed (exit status {code}); {output}/ is as it was", markup=False, soft_wrap=True)
    finally:
        watcher.cancel()


async def _changes(articles: Path, queue) -> None:
    """Put the number of changes under ``articles`` into ``queue`` as they come, following the
    folder when it is replaced: its parent is watched for it too."""
    import asyncio

    from watchfiles import awatch

    name, parent = articles.name, articles.absolute().parent
    while True:
        replaced = asyncio.Event()

        async def folder() -> None:
            async for changes in awatch(parent, recursive=False, watch_filter=lambda _, path: Path(path).name == name):
                replaced.set()
                await queue.put(len(changes))
                return

        follow = asyncio.create_task(folder())
        try:
            if articles.is_dir():
                async for changes in awatch(articles, stop_event=replaced):
                    await queue.put(len(changes))
            await follow  # the folder was replaced (or is missing): watch the new one once it is there
        except FileNotFoundError:
            await follow
        finally:
            follow.cancel()
        while not articles.is_dir():
            await asyncio.sleep(0.5)  # gone for now: a deploy puts it back


async def _build(args: list[str], err: Console) -> tuple[int, list[str]]:
    """``audiofeed build ARGS`` in a child process: its problems go to stderr as it prints them;
    returns its exit status and what it printed on stdout. Cancelled, it stops the child first
    (SIGTERM: the build stops at once and publishes nothing)."""
    import asyncio
    import signal

    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "audiofeed", "build", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                env={**os.environ, "COLUMNS": "200"})

    async def relay() -> None:
        async for raw in proc.stderr:
            err.print(raw.decode("utf-8", "replace").rstrip("\n"), markup=False, highlight=False, soft_wrap=True)

    try:
        out, _ = await asyncio.gather(proc.stdout.read(), relay())
        return await proc.wait(), out.decode("utf-8", "replace").splitlines()
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        # Read its pipes to their end as well as wait, however often the stop cancels this task
        # (the server's gather cancels it, then its finally again): a child not reaped, or a
        # pipe left open, is closed only when collected, after the event loop, with a traceback
        # ("Event loop is closed").
        ended = asyncio.ensure_future(proc.communicate())
        while not ended.done():
            try:
                await asyncio.shield(ended)
            except asyncio.CancelledError:
                continue
        raise


def _wait_for(lock: str) -> None:
    """Block until the build holding ``lock`` lets it go (then let it go at once)."""
    from filelock import FileLock

    with FileLock(lock):
        pass
