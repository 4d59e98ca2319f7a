"""``audiofeed serve``: the output over HTTP, rebuilt on change with ``--watch``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..interrupts import Interrupted
from ..defaults import IDLE_TIMEOUT
from ..names import ANSWERS_FILE, FEED_FILE, INDEX_FILE
from .common import build_options, engine_option, load_settings, print_problems


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

    async def main_loop(url_holder: list[str]) -> None:
        # Ctrl-C and SIGTERM cancel the server through the event loop: raised from the handler,
        # the stop could land inside one of asyncio's callbacks, which only logs it and goes on.
        import signal

        loop, me = asyncio.get_running_loop(), asyncio.current_task()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, me.cancel)
        tasks = [asyncio.create_task(serve(output, host, port, lambda u: (url_holder.append(u), ready(u)), idle_timeout))]
        if watch:
            tasks.append(asyncio.create_task(_watch(articles, output, config_path, engine, url_holder, err)))
        await asyncio.gather(*tasks)

    try:
        asyncio.run(main_loop([]))
    except (Interrupted, KeyboardInterrupt, asyncio.CancelledError):
        click.echo("stopped")
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None


async def _watch(articles: Path, output: Path, config_path: Path | None, engine: str | None, url_holder: list[str],
                 err: Console) -> None:
    import asyncio

    from watchfiles import awatch

    from ..build.builder import BuildError, build
    from ..build.output import built_base_url
    from ..problems import OutputBusy

    async for changes in awatch(articles):
        # Exactly what `audiofeed build ARTICLES -o OUTPUT` would do; the feeds keep pointing where
        # they were built for (the configuration's base_url, else the last build's, else here).
        try:
            configured = load_settings(articles, config_path, engine).channel.get("base_url")
            base = None if configured else (built_base_url(output) or (url_holder[0] if url_holder else None))
            options = build_options(articles, output, config_path, channel={"base_url": base}, engine=engine)
        except click.ClickException as e:
            err.print(f"rebuild skipped: {e.message}", markup=False, soft_wrap=True)
            continue
        report = None
        while report is None:
            try:
                report = await asyncio.to_thread(build, options)
            except OutputBusy as busy:  # another build holds the folder: rebuild once it lets go
                err.print(f"rebuild waiting: another build is writing {output}/; rebuilding when it is done",
                          markup=False, soft_wrap=True)
                await asyncio.to_thread(_wait_for, busy.lock)
            except BuildError as e:
                err.print(f"rebuild failed: {e}", markup=False, soft_wrap=True)
                break
        if report is None:
            continue
        print_problems(err, report.problems)
        err.print(f"rebuilt after {len(changes)} change(s): {report.pages_built} page(s) in {report.seconds:.1f} s",
                  highlight=False)




def _wait_for(lock: str) -> None:
    """Block until the build holding ``lock`` lets it go (then let it go at once)."""
    from filelock import FileLock

    with FileLock(lock):
        pass
