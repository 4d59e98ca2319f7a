"""The command line: parse options, call one core function, render its result.

One module per command; this one makes the ``audiofeed`` group of them.
"""

from __future__ import annotations

import click

from .. import __version__
from .build import build_command, init_command
from .check import check_command
from .say import say_command
from .serve import serve_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audiofeed")
def cli():
    """Turn health Q&A pages into podcast feeds whose durations match the listed runtimes."""


for command in (build_command, say_command, init_command, check_command, serve_command):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="audiofeed")
