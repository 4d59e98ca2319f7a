"""The reference pages of ``docs/reference/``, generated from the code.

``tests/test_docs.py`` fails when a page differs from what the code says now; after an intended
change, regenerate them with ``AUDIOFEED_UPDATE_DOCS=1 python -m pytest tests/test_docs.py``.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import fields
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference"
GENERATED = "<!-- Generated from the code by tests/reference.py: edit the code, then regenerate. -->\n\n"


def cli_reference() -> str:
    """Every command's ``--help``, as a terminal 100 columns wide shows it."""
    from click.testing import CliRunner

    from audiofeed.cli import cli

    out = ["# Command-line reference\n\n", GENERATED,
           "Each section is what `audiofeed COMMAND --help` prints.\n\n"]
    for name in [None, *cli.commands]:
        args = [name, "--help"] if name else ["--help"]
        result = CliRunner().invoke(cli, args, prog_name="audiofeed", terminal_width=100)
        assert result.exit_code == 0, result.output
        out.append(f"## `audiofeed{' ' + name if name else ''}`\n\n```\n{result.output.rstrip()}\n```\n\n")
    return "".join(out).rstrip() + "\n"


def configuration_reference() -> str:
    """The keys of ``audiofeed.toml``: the file ``audiofeed init`` writes, and the show's settings."""
    from audiofeed.channel import Channel
    from audiofeed.config import TEMPLATE
    from audiofeed.speech.engine import DEFAULT_ENGINE, ENGINES

    rows = "".join(f"| `{f.name}` | `{getattr(Channel(), f.name)!r}` |\n" for f in fields(Channel))
    return (
        "# Configuration reference\n\n" + GENERATED
        + "audiofeed reads `audiofeed.toml` beside the articles folder (or the file `--config` names). "
          "Command-line options override it. Every key is checked; an unknown key or a bad value is one "
          "line naming the file and the key. This is the file `audiofeed init` writes, every key in it:\n\n"
        + f"```toml\n{TEMPLATE.rstrip()}\n```\n\n"
        + "## `[feed]`: the show, and their defaults\n\n| key | default |\n|---|---|\n" + rows
        + "| `cover` | audiofeed's own cover |\n\n"
        + f"## `[speech] engine`\n\nOne of: {', '.join(f'`{name}`' for name in ENGINES)} "
          f"(default `{DEFAULT_ENGINE}`).\n"
    )


def output_files_reference() -> str:
    """The files of an output folder, from the names ``audiofeed/names.py`` defines once."""
    import audiofeed.names as names

    source = Path(names.__file__).read_text(encoding="utf-8")
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("# ").strip()
    sections: list[tuple[str, list[tuple[str, str, str]]]] = []
    for node in ast.parse(source).body:
        line = source.splitlines()[node.lineno - 1]
        header = comments.get(node.lineno - 1, "") if line and not line.startswith(" ") else ""
        if header.startswith("--"):
            sections.append((header.strip("- "), []))
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.isupper() and sections and sections[-1][0] in ("the output folder", "a page's folder")):
            value = getattr(names, node.targets[0].id)
            if isinstance(value, str):
                sections[-1][1].append((node.targets[0].id, value, comments.get(node.lineno, "")))
    out = ["# Output files reference\n\n", GENERATED,
           "The names below are defined once, in `audiofeed/names.py`; the build writes them and "
           "`check`, `serve` and the player read them back.\n\n"]
    for title, rows in sections:
        if not rows:
            continue
        out.append(f"## {title[0].upper() + title[1:]}\n\n| name | constant | what |\n|---|---|---|\n")
        out += [f"| `{value}` | `{name}` | {what} |\n" for name, value, what in rows]
        out.append("\n")
    kinds = ", ".join(f"`{k}` ({mime})" for k, (mime, _) in names.TRANSCRIPT_KINDS.items())
    out.append(f"Each answer of a page is `{names.answer_stem(1)}.mp3` (0 is the lead answer), with its "
               f"transcripts beside it in every kind: {kinds}.\n")
    return "".join(out)


PAGES = {"cli.md": cli_reference, "configuration.md": configuration_reference, "output-files.md": output_files_reference}
