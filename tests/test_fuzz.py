"""Fuzzing every input boundary: pages, settings, spoken text, published files, requests.

Each test mutates real inputs (the sample pages, the configuration template, a real build's
published files, HTTP requests) with a seeded random generator, so a failure is reproduced by
its case number, and runs each through the same code the command runs, in process so that
thousands of cases fit in the suite's time. A case passes when the input is accepted or refused
with the command's own one-line error (PageError, ConfigError, a click error, a problem in the
report, a 4xx); any other exception is a traceback a user would have seen, and is counted.
Every test runs at least :data:`CASES` cases and requires 0 tracebacks.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import traceback
from pathlib import Path

import pytest

from .conftest import ARTICLES

CASES = 1000

# What mutations insert: what XML, ID3, YAML, TOML, Markdown, HTML and file systems find hard.
NASTY = ["\x00", "\x01", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\ufeff", "\ufffe",
         "\uffff", "\U0010ffff", "\U0001fffe", "\ufdd0", "\u202e", "\u200b", "&", "<", ">", '"', "'", "&amp;", "<b>",
         "]]>", "<!--", "{{", "{%", "\\", "%", "$", ":", "- ", "---", "## ", "#", "*", "`", "|", "\t", "\r", "\r\n", "\n\n",
         "é", "ø", "Å", "中文", "🙂", "ﬁ", "0", "99999999999999999999", "1e999", "-1", "NaN", "inf", "9min 99sec",
         "1min 11sec", "39sec", "00:00", "Written by ", "Other Voices", "home-news-image", "doctor image", "Updated on ",
         "February 30, 2025", " " * 200, "x" * 5000, "1," * 2000]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        i = rng.randrange(len(lines)) if lines else 0
        if kind == 0 and lines:  # insert something nasty into a line
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + rng.choice(NASTY) + lines[i][at:]
        elif kind == 1 and lines:
            del lines[i]
        elif kind == 2 and lines:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif kind == 3 and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 4 and lines:  # replace a line's text with something nasty
            lines[i] = rng.choice(NASTY)
        elif kind == 5:  # truncate
            lines = lines[: rng.randint(0, len(lines))]
        else:  # replace a word
            if lines and (words := lines[i].split(" ")):
                words[rng.randrange(len(words))] = rng.choice(NASTY)
                lines[i] = " ".join(words)
    return "\n".join(lines)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        kind = rng.randrange(3)
        if kind == 0:
            data[at] = rng.randrange(256)
        elif kind == 1:
            del data[at: at + rng.randint(1, 64)]
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


class Tracebacks:
    """Exceptions that escaped, with the case that raised them (the first few printed in full)."""

    def __init__(self):
        self.found: list[str] = []

    def add(self, case: int, error: BaseException) -> None:
        text = "".join(traceback.format_exception(error))
        self.found.append(f"case {case}: {text if len(text) < 4000 else text[:1500] + ' ... ' + text[-2500:]}")

    def __str__(self) -> str:
        return f"{len(self.found)} traceback(s); the first:\n" + "\n".join(self.found[:3])


def sample_pages() -> list[tuple[str, str]]:
    pages = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(ARTICLES.iterdir())]
    from audiofeed.config import EXAMPLE_ARTICLE

    return pages + [("example.md", EXAMPLE_ARTICLE)]


@pytest.fixture(scope="module")
def silent_audio():
    """One short answer's audio (half a second of silence, encoded once): what the publish stages
    get for every fuzzed answer, so the text paths run without speech."""
    import numpy as np

    from audiofeed.audio.answer import AnswerAudio
    from audiofeed.audio.encoding import encode

    return AnswerAudio(mp3=encode(np.zeros(24_000, dtype=np.float32)), rate=150, silence_added=0.0, speech_seconds=0.5,
                       needed_rate=150.0, cues=())


def publish_page(page, audio, channel):
    """Everything a build publishes from ``page`` (tags, transcripts, player page, embed, both feeds),
    with ``audio`` for every answer; what the build's planner says of its text, too."""
    from dataclasses import replace

    from audiofeed.audio.answer import Cue, Rendered
    from audiofeed.build.identity import repeated_answers
    from audiofeed.publish.episode import make_episode
    from audiofeed.publish.feeds import answers_feed, episodes_feed
    from audiofeed.publish.site import render_embed, render_index, render_page
    from audiofeed.speech.lexicon import Lexicon, spoken_text
    from audiofeed.speech.verbalize import to_speak

    repeated_answers(page)
    outcomes = {}
    for i, answer in enumerate(page.answers):
        display, _ = spoken_text(answer.question, answer.text)
        spoken, _ = to_speak(display, Lexicon({}), True)
        cues = (Cue(0.1, 0.4, display[:200], answer.doctor),)
        outcomes[i] = Rendered(replace(audio, cues=cues), spoken=spoken, voice="gmw/en-us")
    made = make_episode(page, outcomes, album=channel.title, publisher=channel.author, cover=b"",
                        base_url=channel.url(""), language=channel.language, engine="espeak")
    render_page(channel, made.episode, made.sections)
    render_embed(channel, made.episode)
    render_index(channel, [made.episode])
    for feed in (episodes_feed, answers_feed):
        from lxml import etree

        etree.fromstring(feed(channel, [made.episode]))  # what was written parses back
    return made


def test_fuzzed_pages_are_read_or_refused_in_one_line_and_publish_without_a_traceback(tmp_path, silent_audio):
    from audiofeed.channel import Channel
    from audiofeed.read import PageError, read_page

    rng = random.Random(20261207)
    pages = sample_pages()
    found, read, refused = Tracebacks(), 0, 0
    channel = Channel()
    for case in range(CASES):
        name, text = rng.choice(pages)
        mutated = mutate(text, rng)
        path = tmp_path / f"{case:04d}{Path(name).suffix}"
        raw = mutated.encode("utf-8", "surrogatepass")
        path.write_bytes(mutate_bytes(raw, rng) if rng.random() < 0.2 else raw)
        try:
            page = read_page(path)
        except PageError as e:
            refused += 1
            assert e.problems and all(str(p).startswith(str(path)) and "\n" not in str(p) for p in e.problems), e.problems
            continue
        except Exception as e:  # noqa: BLE001  (what the fuzzing looks for)
            found.add(case, e)
            continue
        read += 1
        try:
            publish_page(page, silent_audio, channel)
        except Exception as e:  # noqa: BLE001
            found.add(case, e)
    assert not found.found, str(found)
    assert read > CASES // 10 and refused > CASES // 10  # both paths were fuzzed


def settings_text(rng: random.Random) -> str:
    from audiofeed.config import TEMPLATE

    if rng.random() < 0.4:
        return mutate(TEMPLATE, rng)
    keys = {"feed": ["title", "description", "author", "owner_email", "language", "base_url", "category", "subcategory",
                     "explicit", "max_items", "answers_description", "podcast_guid", "new_feed_url", "cover", "nonsense"],
            "voices": ["default", "doctors"], "fitting": ["rate_band"], "check": ["tolerance_ms"],
            "build": ["bitrate_kbps", "scheduler"], "speech": ["normalize", "engine"], "lexicon": ["CT", ""],
            "other": ["x"]}

    def value() -> str:
        import json

        kind = rng.randrange(6)
        if kind == 0:
            return json.dumps(rng.choice(NASTY) + rng.choice(["Show", "en", "a@b.org", "https://x.org/"]))
        if kind == 1:
            return rng.choice(["true", "false", "0", "-1", "64", "1e999", "nan", "inf", "[130, 215]", "[1]", "{}"])
        if kind == 2:
            return json.dumps("".join(rng.choice(NASTY) for _ in range(rng.randint(0, 3))))
        if kind == 3:
            return rng.choice(['"Health & Fitness"', '"Medicine"', '"en-US"', '"https://example.org/p/"', '"joe+2.3"',
                               '"gmw/en-us"', '"piper"', '"espeak"', '"tcp://127.0.0.1:1"'])
        if kind == 4:
            return '{ "Ann Lee" = ' + json.dumps(rng.choice(NASTY)) + " }"
        return json.dumps(rng.choice(NASTY) * rng.randint(1, 3))

    lines = []
    for section in rng.sample(list(keys), rng.randint(1, 4)):
        lines.append(f"[{section}]")
        for key in rng.sample(keys[section], rng.randint(1, len(keys[section]))):
            lines.append(f'"{key}" = {value()}')
    return "\n".join(lines) + "\n"


def test_fuzzed_settings_are_taken_or_refused_in_one_line(tmp_path, silent_audio):
    """audiofeed.toml and the same settings on the command line: either refused in one line
    naming the key, or taken, and then everything published from them parses."""
    import click

    from audiofeed.cli.common import build_options
    from audiofeed.read import read_page

    rng = random.Random(7)
    page = read_page(ARTICLES / "003_fever_in_children_utf8.txt")
    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    config = site / "audiofeed.toml"
    found, taken = Tracebacks(), 0
    keys = ["title", "description", "author", "owner_email", "language", "base_url"]
    for case in range(CASES):
        config.write_text(settings_text(rng), encoding="utf-8", errors="surrogatepass")
        command_line = ({rng.choice(keys): rng.choice(NASTY) + rng.choice(["", "x", "en", "a@b.org", "https://x.org/"])}
                        if rng.random() < 0.3 else {})
        try:
            options = build_options(site / "articles", tmp_path / "out", channel=command_line, engine="espeak")
        except click.ClickException as e:
            assert "\n" not in e.message, e.message
            continue
        except Exception as e:  # noqa: BLE001
            found.add(case, e)
            continue
        taken += 1
        try:
            publish_page(page, silent_audio, options.channel)
        except Exception as e:  # noqa: BLE001
            found.add(case, e)
    assert not found.found, str(found)
    assert taken > 20


def test_fuzzed_text_to_say_is_said_or_refused_in_one_line(tmp_path):
    from click.testing import CliRunner

    from audiofeed.cli import cli

    rng = random.Random(3)
    texts = [ln for _, t in sample_pages() for ln in t.split("\n") if ln.strip()]
    runner = CliRunner()
    found = Tracebacks()
    for case in range(CASES):
        text = mutate(rng.choice(texts), rng)
        result = runner.invoke(cli, ["say", "--engine", "espeak", "--articles", str(tmp_path), "--", text])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            found.add(case, result.exception)
        elif result.exit_code not in (0, 1):
            found.add(case, RuntimeError(f"exit status {result.exit_code}: {result.output}"))
    assert not found.found, str(found)


def test_fuzzed_published_files_are_checked_as_problems(small_output, tmp_path):
    """check reads what a careless host or a broken disk left: every text file it reads (feeds,
    records, chapters, transcripts, manifest) mutated, 1,000 times, read as `check` reads them;
    then the whole `check` on one case in 25 (it decodes every MP3 with ffmpeg)."""
    from audiofeed.check.checker import check
    from audiofeed.check.published import Publication

    articles, built = small_output
    texts = sorted(p.relative_to(built) for p in built.rglob("*")
                   if p.is_file() and p.suffix in (".xml", ".json", ".vtt", ".srt") and "assets" not in p.parts)
    rng = random.Random(11)
    found = Tracebacks()
    out = tmp_path / "out"
    shutil.copytree(built, out)
    for case in range(CASES):
        spoilt = [rng.choice(texts) for _ in range(rng.randint(1, 3))]
        for name in spoilt:
            data = (built / name).read_bytes()
            (out / name).write_bytes(mutate_bytes(data, rng) if rng.random() < 0.5
                                     else mutate(data.decode("utf-8"), rng).encode("utf-8", "surrogatepass"))
        try:
            problems: list = []
            Publication(out, lambda *a, **k: problems.append(a)).read()
            if case % 25 == 0:
                report = check(out, articles)
                assert all("\n" not in str(p) for p in report.problems)
        except Exception as e:  # noqa: BLE001
            found.add(case, e)
        for name in spoilt:
            shutil.copyfile(built / name, out / name)
    assert not found.found, str(found)


def test_fuzzed_requests_are_answered_without_a_server_error(small_output):
    """serve: paths, ranges, dates, encodings and methods a hostile client sends, through the real
    aiohttp application: never a 500."""
    from aiohttp.test_utils import TestClient, TestServer

    from audiofeed.serving import make_app

    _, out = small_output
    files = ["/", "/feed.xml", "/answers.xml", "/003_fever_in_children_utf8/episode.mp3", "/003_fever_in_children_utf8/",
             "/003_fever_in_children_utf8/chapters.json", "/nothing", "/../etc/passwd", "//evil.example/", "/.hidden"]
    headers = ["Range", "If-Modified-Since", "If-None-Match", "Accept-Encoding", "Origin", "If-Range"]
    values = ["bytes=0-9", "bytes=-0", "bytes=9-0", "bytes=99999999999-", "bytes=0-1,2-3", "gzip;q=abc", "gzip",
              "*", "Thu, 01 Jan 1970 00:00:00 GMT", "Sun, 31 Dec 9999 23:59:59 GMT", "yesterday", '"x"', "W/\"y\"", ""]
    rng = random.Random(5)
    statuses: list[int] = []

    async def run() -> None:
        async with TestClient(TestServer(make_app(out))) as client:
            for _ in range(CASES):
                path = mutate(rng.choice(files), rng).replace("\n", "").replace("\r", "")
                path = path if path.startswith("/") else "/" + path
                sent = {h: mutate(rng.choice(values), rng).replace("\n", "").replace("\r", "")
                        for h in rng.sample(headers, rng.randint(0, 3))}
                method = rng.choice(["GET", "HEAD", "OPTIONS", "GET"])
                try:
                    resp = await client.request(method, path.encode("utf-8", "replace").decode("latin-1", "replace"),
                                                headers={k: v.encode("utf-8", "replace").decode("latin-1") for k, v in sent.items()})
                    await resp.read()
                    statuses.append(resp.status)
                except (ValueError, UnicodeError, AssertionError) as e:  # the test client itself refused to send it
                    statuses.append(-1)
                    del e

    # In a thread of its own: a session's browser (Playwright's sync API) may hold this thread's loop.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
    assert len(statuses) == CASES
    assert not [s for s in statuses if s >= 500], sorted(set(statuses))
