"""The command line, invoked as users invoke it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import click

from audiofeed.cli import cli

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


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


def test_a_rate_band_outside_the_engines_limits_is_refused_whatever_the_option_order(tmp_path):
    """The band is held to the chosen engine's steady range, with --engine before or after it."""
    from audiofeed.speech.engine import DEFAULT_ENGINE, engine_type

    floor, ceiling = engine_type(DEFAULT_ENGINE).RATE_LIMITS
    for args in (["--rate-band", f"{floor - 10}-{floor + 50}", "--engine", DEFAULT_ENGINE],
                 ["--engine", DEFAULT_ENGINE, "--rate-band", f"{floor - 10}-{floor + 50}"]):
        result = run("build", str(ROOT / "articles"), "-o", str(tmp_path / "o"), *args)
        assert result.returncode == 2, result.stderr
        assert "Invalid value for '--rate-band'" in result.stderr and f"{floor}-{ceiling}" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not lose me")
    result = run("build", "-o", str(precious))
    assert result.returncode == 1
    assert "was not made by audiofeed" in result.stderr and "Traceback" not in result.stderr
    assert (precious / "thesis.txt").read_text() == "do not lose me"


def test_help_loads_no_audio_or_publishing_library():
    """--help and option errors answer at once: no command imports the pipeline before it runs."""
    probe = ("import sys\nfrom click.testing import CliRunner\nfrom audiofeed.cli import cli\n"
             "for args in (['--help'], ['build', '--help'], ['check', '--help'], ['serve', '--help'], ['say', '--help']):\n"
             "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
             "heavy = sorted(m for m in ('numpy', 'soxr', 'lameenc', 'mutagen', 'feedgen', 'lxml', 'jinja2', 'pyttsx3')"
             " if m in sys.modules)\n"
             "print(heavy)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
