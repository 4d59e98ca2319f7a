"""The command line, invoked as users invoke it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import click

from audiofeed.cli import cli


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiofeed", *args], capture_output=True, text=True)


def test_every_command_has_help_with_an_example():
    assert isinstance(cli, click.Group) and cli.commands
    for name in cli.commands:
        result = run(name, "--help")
        assert result.returncode == 0
        assert "Example" in result.stdout and f"audiofeed {name}" in result.stdout


def test_console_script_installed():
    exe = shutil.which("audiofeed") or str(__import__("pathlib").Path(sys.executable).with_name("audiofeed"))
    result = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "audiofeed" in result.stdout


def test_bad_option_is_one_clear_line(tmp_path):
    result = run("build", "--rate-band", "fast", "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "Invalid value for '--rate-band'" in result.stderr and "Traceback" not in result.stderr


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not lose me")
    result = run("build", "-o", str(precious))
    assert result.returncode == 1
    assert "was not made by audiofeed" in result.stderr and "Traceback" not in result.stderr
    assert (precious / "thesis.txt").read_text() == "do not lose me"
