"""Producers: configuration, the Markdown format, incremental and reproducible builds, the lock,
and loudness, each on real builds."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from audiofeed.audio.ffmpeg import ffmpeg_exe

from .conftest import ARTICLES, run_build, small_articles, snapshot

SEED = "000_4fe75e9a818bb161"


# -- loudness ---------------------------------------------------------------------------------
def ebur128(path: Path) -> tuple[float, float]:
    out = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = out[out.rfind("Summary:"):]
    return (float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
            float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)))


def test_every_mp3_at_minus_16_lufs_and_under_minus_1_dbtp(built):
    figures = []
    for mp3 in sorted(built.output.glob("*/*.mp3")):
        integrated, peak = ebur128(mp3)
        figures.append((mp3.name, integrated, peak))
        assert -17.0 <= integrated <= -15.0, (mp3, integrated)
        assert peak <= -1.0, (mp3, peak)
    assert len(figures) == 22  # 14 answers, 4 episodes, 4 voice notes
    print("\n" + "\n".join(f"{n}: {i} LUFS, {p} dBTP" for n, i, p in figures))


def test_summary_shows_loudness(built):
    assert "LUFS" in built.stdout and "dBTP" in built.stdout
    assert re.search(r"-1[56]\.\d", built.stdout)


# -- incremental --------------------------------------------------------------------------------
def test_rebuild_without_change_writes_nothing(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    before = snapshot(out)
    again = run_build(articles, out)
    assert again.code == 0 and "Nothing changed" in again.stdout
    assert snapshot(out) == before


def test_editing_one_answer_remakes_that_answer_and_its_page_only(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    before = snapshot(out)
    guids = re.findall(r"<guid[^>]*>([^<]+)<", (out / "answers.xml").read_text())
    dates = re.findall(r"<pubDate>([^<]+)<", (out / "feed.xml").read_text())
    page = articles / "003_fever_in_children_utf8.txt"
    page.write_bytes(page.read_bytes().replace(b"Trust your instinct", b"Always trust your instinct"))
    run = run_build(articles, out)
    assert run.code == 0
    counts = re.search(r"1 page\(s\) built, 1 unchanged; (\d) answer\(s\) rendered, (\d) from the cache", run.stdout)
    assert counts, run.stdout
    # the edited answer, and the lead if the median of the page's planned rates moved; the other answer is cached
    assert int(counts.group(1)) in (1, 2) and int(counts.group(1)) + int(counts.group(2)) == 3
    after = snapshot(out)
    untouched = [f for f in before if f.startswith("001_")]
    assert untouched and all(after[f] == before[f] for f in untouched)  # same inode, same time
    assert after["003_fever_in_children_utf8/answer-02.mp3"] != before["003_fever_in_children_utf8/answer-02.mp3"]
    assert re.findall(r"<guid[^>]*>([^<]+)<", (out / "answers.xml").read_text()) == guids
    assert re.findall(r"<pubDate>([^<]+)<", (out / "feed.xml").read_text()) == dates
    assert "Always trust your instinct" in (out / "003_fever_in_children_utf8" / "answer-02.vtt").read_text()


def test_an_edited_template_republishes_every_page(tmp_path):
    """Templates are inputs like any other: editing one republishes the pages, with no --force."""
    package = tmp_path / "installed" / "audiofeed"
    shutil.copytree(Path(__file__).resolve().parent.parent / "audiofeed", package)
    env = {**os.environ, "PYTHONPATH": str(package.parent)}

    def build() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(out)],
                              capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)

    articles, out = small_articles(tmp_path / "articles"), tmp_path / "out"
    assert build().returncode == 0
    assert "Nothing changed" in build().stdout
    template = package / "templates" / "page.html"
    template.write_text(template.read_text().replace("Other Voices</h2>", "More doctors</h2>"))
    run = build()
    assert run.returncode == 0, run.stderr
    assert re.search(r"2 page\(s\) built, 0 unchanged; 0 answer\(s\) rendered, \d+ from the cache", run.stdout), run.stdout
    assert "More doctors</h2>" in (out / "003_fever_in_children_utf8" / "index.html").read_text()


def test_deleting_a_page_removes_its_episode(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    (articles / "001_seasonal_flu_lead_only.txt").unlink()
    run = run_build(articles, out)
    assert run.code == 0 and "1 removed" in run.stdout
    assert not (out / "001_seasonal_flu_lead_only").exists()
    for feed in ("feed.xml", "answers.xml", "index.html"):
        assert "seasonal_flu" not in (out / feed).read_text()


def test_force_renders_everything(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    run = run_build(articles, out, "--force")
    assert run.code == 0 and "4 answer(s) rendered, 0 from the cache" in run.stdout


def test_two_clean_builds_are_byte_identical(tmp_path):
    articles = small_articles(tmp_path / "articles")
    a = run_build(articles, tmp_path / "a" / "out", "--cache", str(tmp_path / "cache-a"))
    b = run_build(articles, tmp_path / "b" / "out", "--cache", str(tmp_path / "cache-b"))
    assert a.code == b.code == 0
    files_a = sorted(str(p.relative_to(a.output)) for p in a.output.rglob("*") if p.is_file())
    files_b = sorted(str(p.relative_to(b.output)) for p in b.output.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 20
    match, mismatch, errors = filecmp.cmpfiles(a.output, b.output, files_a, shallow=False)
    assert not mismatch and not errors


def test_second_build_while_one_runs_is_refused(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    with FileLock(str(tmp_path / ".out.lock")):
        run = run_build(articles, out)
    assert run.code == 75  # EX_TEMPFAIL: trying again later will work
    assert "another build is writing this output folder" in run.stderr and "Traceback" not in run.stderr


# -- configuration ----------------------------------------------------------------------------
def test_config_sets_the_channel_and_cli_overrides_it(tmp_path):
    articles = small_articles(tmp_path / "articles")
    (tmp_path / "audiofeed.toml").write_text(
        '[feed]\ntitle = "Ask the Doctors"\nauthor = "Clinic Press"\nbase_url = "https://clinic.example/pod"\n'
        'explicit = true\n[fitting]\nrate_band = [110, 230]\n')
    run = run_build(articles, tmp_path / "out", "--author", "Override Press")
    assert run.code == 0, run.stderr
    feed = (tmp_path / "out" / "feed.xml").read_text()
    assert "<title>Ask the Doctors</title>" in feed and "Override Press" in feed and "Clinic Press" not in feed
    assert "https://clinic.example/pod/feed.xml" in feed and "<itunes:explicit>true</itunes:explicit>" in feed


@pytest.mark.parametrize("toml, message", [
    ('[feed]\ntitel = "x"\n', "feed.titel: unknown key"),
    ('[fead]\ntitle = "x"\n', "fead: unknown section"),
    ('[feed]\nexplicit = "yes"\n', "feed.explicit: must be true or false"),
    ('[feed]\nbase_url = "example.org"\n', "feed.base_url: must start with http"),
    ('[fitting]\nrate_band = [240, 100]\n', "fitting.rate_band: must be [low, high]"),
    ('[voices.doctors]\n"Zhou Qi" = "klingon"\n', "voices.doctors.Zhou Qi: unknown espeak-ng voice"),
    ('[lexicon]\n"CT" = 3\n', "lexicon.CT: must be the text to say"),
    ('[feed\n', "not valid TOML"),
])
def test_bad_config_names_the_key(tmp_path, toml, message):
    articles = small_articles(tmp_path / "articles")
    (tmp_path / "audiofeed.toml").write_text(toml)
    run = run_build(articles, tmp_path / "out")
    assert run.code == 1 and "Traceback" not in run.stderr
    assert f"{tmp_path / 'audiofeed.toml'}" in run.stderr and message in run.stderr, run.stderr


def test_lexicon_changes_speech_not_text(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / f"{SEED}.txt", articles)
    plain = run_build(articles, tmp_path / "plain")
    (tmp_path / "audiofeed.toml").write_text('[lexicon]\n"CT" = "computed tomography"\n')
    spoken = run_build(articles, tmp_path / "spoken")
    assert plain.code == spoken.code == 0
    # answer 4 mentions CT three times: a different sound, the same text
    a = (tmp_path / "plain" / SEED / "answer-04.mp3").read_bytes()
    b = (tmp_path / "spoken" / SEED / "answer-04.mp3").read_bytes()
    assert a != b
    for name in ("answer-04.vtt", "answer-04.json", "index.html"):
        text = (tmp_path / "spoken" / SEED / name).read_text()
        assert "CT scans" in text and "computed tomography" not in text
    assert (tmp_path / "plain" / SEED / "answer-03.mp3").read_bytes() == (tmp_path / "spoken" / SEED / "answer-03.mp3").read_bytes()


def test_init_writes_a_project_that_builds(tmp_path):
    proj = tmp_path / "proj"
    init = subprocess.run([sys.executable, "-m", "audiofeed", "init", str(proj)], capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    assert (proj / "audiofeed.toml").is_file() and (proj / "articles" / "example.md").is_file()
    again = subprocess.run([sys.executable, "-m", "audiofeed", "init", str(proj)], capture_output=True, text=True)
    assert again.returncode == 1 and "not overwritten" in again.stderr
    run = run_build(proj / "articles", proj / "output")
    assert run.code == 0, run.stderr
    assert "Is it safe to exercise with a cold?" in (proj / "output" / "feed.xml").read_text()


# -- the Markdown format ---------------------------------------------------------------------
SEED_MD = '''---
title: Kidney cancer most commonly metastasizes to which locations?
date: 2025-02-12
doctor: Yan Chun
specialty: Oncology
answers:
{answers}
---

{lead}
{sections}
'''


def seed_as_markdown() -> str:
    from audiofeed.read.pages import format_runtime
    from audiofeed.read import read_page

    page = read_page(ARTICLES / f"{SEED}.txt")
    answers = "\n".join(
        f"  - question: {json.dumps(a.question)}\n    doctor: {a.doctor}\n    specialty: {a.specialty}\n"
        f"    runtime: {format_runtime(a.listed_runtime)}" for a in page.answers[1:])
    sections = "".join(f"\n## {a.question}\n\n{a.text}\n" for a in page.answers[1:])
    return SEED_MD.format(answers=answers, lead=page.answers[0].text, sections=sections)


def test_markdown_and_scraped_formats_make_the_same_episode(tmp_path):
    txt, md = tmp_path / "txt", tmp_path / "md"
    txt.mkdir()
    md.mkdir()
    shutil.copy(ARTICLES / f"{SEED}.txt", txt)
    (md / f"{SEED}.md").write_text(seed_as_markdown())
    a = run_build(txt, tmp_path / "out-txt")
    b = run_build(md, tmp_path / "out-md")
    assert a.code == b.code == 0, b.stderr
    for name in ["episode.mp3", "chapters.json", "episode.vtt"] + [f"answer-{i:02d}.mp3" for i in range(6)]:
        assert (a.output / SEED / name).read_bytes() == (b.output / SEED / name).read_bytes(), name
    ra = json.loads((a.output / SEED / "build.json").read_text())
    rb = json.loads((b.output / SEED / "build.json").read_text())
    assert ra.pop("source") == f"{SEED}.txt" and rb.pop("source") == f"{SEED}.md"
    assert ra == rb
    assert (a.output / "feed.xml").read_text() == (b.output / "feed.xml").read_text()


def test_malformed_markdown_names_file_and_line(tmp_path):
    md = tmp_path / "md"
    md.mkdir()
    text = seed_as_markdown().replace("runtime: 39sec", "runtime: soonish").replace(
        "## Is late-stage kidney cancer contagious?", "## Is late-stage kidney cancer infectious?")
    (md / "bad.md").write_text(text)
    shutil.copy(ARTICLES / "001_seasonal_flu_lead_only.txt", md)
    run = run_build(md, tmp_path / "out")
    assert run.code == 1 and "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert any(l.startswith(f"{md / 'bad.md'}:1: answers[2]: unparseable runtime 'soonish'") for l in lines), lines
    assert any(re.match(rf"{re.escape(str(md / 'bad.md'))}:\d+: section '## Is late-stage kidney cancer infectious\?'", l)
               for l in lines), lines
    assert "seasonal" in (tmp_path / "out" / "feed.xml").read_text()


def test_any_executor_can_run_the_build(tmp_path):
    """The build submits through the concurrent.futures.Executor interface only."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    from audiofeed.build.builder import BuildOptions, build

    articles = small_articles(tmp_path / "articles")
    submitted = []

    class CountingExecutor(ProcessPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            submitted.append((fn.__name__, getattr(args[0], "name", None)))
            return super().submit(fn, *args, **kwargs)

    with CountingExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as executor:
        report = build(BuildOptions(articles=articles, output=tmp_path / "out", cache=tmp_path / "cache"),
                       executor=executor)
        assert report.ok and report.pages_built == 2
        # every answer rendered once, nothing else submitted (the palette's pacing ships with audiofeed)
        assert submitted == [("run_job", "RENDER")] * 5 and report.voices_calibrated == 0  # 4 answers, the voice note
        assert executor.submit(sum, [1, 2]).result() == 3  # still usable: the build did not shut it down


def test_an_item_limit_rewrites_the_feeds_and_no_page(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    before = snapshot(out)
    run = run_build(articles, out, "--max-items", "1")
    assert run.code == 0 and "0 page(s) built, 2 unchanged" in run.stdout, run.stdout
    after = snapshot(out)
    pages = [f for f in before if f.split("/")[0] in ("001_seasonal_flu_lead_only", "003_fever_in_children_utf8")]
    assert pages and all(after[f] == before[f] for f in pages)  # every page's files untouched
    assert (out / "feed.xml").read_text().count("<item>") == 1
    assert "Nothing changed" in run_build(articles, out, "--max-items", "1").stdout
