"""What the commands share: the options made from ``audiofeed.toml`` and the command line, and
how problems are printed."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from ..channel import Channel, setting_problem
from ..speech.engine import DEFAULT_ENGINE, ENGINES

DEFAULTS = Channel()
OPTION_NAMES = {"owner_email": "email"}  # a show setting's command-line option, where its name differs


def engine_option(what: str):
    """``--engine NAME``: a speech engine from :data:`~audiofeed.speech.engine.ENGINES`."""
    return click.option("--engine", type=click.Choice(sorted(ENGINES)), default=None,
                        help=f"Speech engine {what}: piper (natural) or espeak (fast drafts, many voices). "
                             f"[default: speech.engine in audiofeed.toml, else $AUDIOFEED_ENGINE, else {DEFAULT_ENGINE}]")


def _rate_band(ctx, param, value: str | None) -> tuple[int, int] | None:
    """``--rate-band LOW-HIGH`` parsed; :func:`build_options` holds it to the chosen engine's limits."""
    if value is None:
        return None
    try:
        low, high = (int(x) for x in value.split("-"))
    except ValueError:
        raise click.BadParameter("expected LOW-HIGH words per minute, e.g. 100-240") from None
    return low, high


def print_problems(err: Console, problems) -> None:
    """One line per problem on stderr: errors as they are, warnings marked."""
    for p in problems:
        err.print(str(p) if p.is_error else f"warning: {p}", markup=False, highlight=False, soft_wrap=True)


def build_options(articles: Path, output: Path, config_path: Path | None = None, *, channel: dict | None = None,
                  jobs: int = 0, force: bool = False, cache: Path | None = None,
                  rate_band: tuple[int, int] | None = None, scheduler: str | None = None, engine: str | None = None,
                  kbps: int | None = None):
    """The build's options: ``audiofeed.toml`` (beside ARTICLES, or ``config_path``) under the
    command line's. The one place options are made: ``build`` and ``serve --watch`` both use it."""
    from ..build.builder import BuildOptions
    from ..defaults import BITRATE_KBPS

    from ..speech.engine import engine_type

    config = load_settings(articles, config_path, engine)
    if rate_band is not None:
        floor, ceiling = engine_type(config.engine).RATE_LIMITS
        if not floor <= rate_band[0] < rate_band[1] <= ceiling:
            raise click.BadParameter(f"the band must lie within {floor}-{ceiling} wpm for {config.engine}, "
                                     "low below high", param_hint="'--rate-band'")
    given = {k: v for k, v in (channel or {}).items() if v is not None}
    fields = {**config.channel, **given}
    for k, v in given.items():  # the command line's settings pass the same checks as the file's
        if why := setting_problem(k, v, fields):
            raise click.ClickException(f"--{OPTION_NAMES.get(k, k.replace('_', '-'))}: {why}")
    if "base_url" in fields and not fields["base_url"].endswith("/"):
        fields["base_url"] += "/"
    return BuildOptions(
        articles=articles, output=output, channel=Channel(**fields), workers=jobs,
        band=rate_band or config.rate_band or engine_type(config.engine).RATE_BAND, force=force, cache=cache,
        lexicon=tuple(config.lexicon.items()), normalize=config.normalize, pinned_voices=tuple(config.voices.items()),
        people_images=tuple(sorted(config.people_images.items())),
        default_voice=config.default_voice, cover=config.cover, scheduler=scheduler or config.scheduler,
        engine=config.engine, kbps=kbps or config.bitrate_kbps or BITRATE_KBPS,
    )


def load_settings(articles: Path, explicit: Path | None, engine: str | None = None):
    """``audiofeed.toml`` (beside ``articles``, or ``explicit``), its voices checked against the
    engine's (``engine`` overrides its ``[speech] engine``); a bad file is one line."""
    from ..config import ConfigError, find_config, load_config

    path = find_config(articles, explicit)
    try:
        return load_config(path, engine, check_voices=path is not None)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
