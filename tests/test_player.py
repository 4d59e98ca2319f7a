"""The web player in headless Chromium, served by `audiofeed serve`, operated as people do."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from audiofeed.read import read_page

from .conftest import ARTICLES
from .server import serving

ARTIFACTS = Path(__file__).parent / "artifacts"
SEED = "000_4fe75e9a818bb161"
PAGES = [read_page(p) for p in sorted(ARTICLES.glob("*.txt"))]


@pytest.fixture(scope="module")
def site(built):
    with serving(built.output) as (url, proc):
        yield url


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    p = context.new_page()
    p.problems = []
    p.on("console", lambda m: p.problems.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.problems.append(str(e)))
    p.on("response", lambda r: p.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield p
    context.close()


def open_page(page, site, slug):
    page.goto(f"{site}{slug}/")
    page.wait_for_function("() => [...document.querySelectorAll('audio')].every(a => a.readyState >= 1)", timeout=20_000)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"could not reach {selector} with Tab")


def test_index_lists_episodes_and_feeds(page, site):
    page.goto(site)
    assert page.title() == "Doctors' Answers, Read Aloud"
    titles = page.locator(".episodes h3").all_inner_texts()
    assert sorted(titles) == sorted(p.title for p in PAGES)
    feeds = page.locator(".subscribe input").evaluate_all("els => els.map(e => e.value)")
    assert feeds == ["https://podcast.example.org/health/feed.xml", "https://podcast.example.org/health/answers.xml"]
    assert page.locator(".subscribe a", has_text="Apple Podcasts").count() == 2
    page.locator("button.copy").first.click()
    # the status is set when the clipboard's promise settles: wait for it, as a person would read it
    expect(page.locator(".subscribe .status").first).to_have_text(re.compile("copied|copy it"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)
    assert not page.problems, page.problems


@pytest.mark.parametrize("source", PAGES, ids=lambda p: p.slug)
def test_page_loads_and_every_audio_lasts_its_runtime(page, site, source):
    open_page(page, site, source.slug)
    assert page.locator("h1").inner_text() == source.title
    byline = page.locator(".byline").inner_text()
    assert source.doctor in byline and source.specialty in byline and str(source.updated.year) in byline
    durations = page.evaluate("() => [...document.querySelectorAll('audio')].map(a => [a.id, a.duration, a.dataset.listedSeconds, a.dataset.durationMs])")
    episode = [d for d in durations if d[0] == "episode-audio"][0]
    assert abs(episode[1] - float(episode[3]) / 1000) <= 0.030
    others = [d for d in durations if d[0] != "episode-audio"]
    listed = [a.listed_runtime for a in source.answers[1:]]
    assert len(others) == len(listed)
    for (_, duration, listed_attr, _), runtime in zip(others, listed):
        assert int(listed_attr) == runtime and abs(duration - runtime) <= 0.030
    # captions load through <track kind="captions">
    cues = page.evaluate("() => { const t = document.getElementById('episode-audio').textTracks[0]; return [t.kind, t.cues ? t.cues.length : -1]; }")
    assert cues[0] == "captions"
    page.wait_for_function("() => document.getElementById('episode-audio').textTracks[0].cues.length > 0")
    assert page.locator(".chapters li").count() == len(source.answers)
    assert not page.problems, page.problems


def test_chapter_click_moves_playback(page, site):
    open_page(page, site, SEED)
    starts = page.locator("button.chapter").evaluate_all("els => els.map(e => parseFloat(e.dataset.start))")
    for k in (3, 1, 5):
        page.locator("button.chapter").nth(k).click()
        t = page.evaluate("() => document.getElementById('episode-audio').currentTime")
        assert starts[k] - 0.001 <= t < starts[k] + 1.0, (k, starts[k], t)  # media time is kept to the microsecond
        # the shown position follows the media's time (it updates on timeupdate events, so wait for
        # the event rather than read it at one instant, when it may still show the second before)
        page.wait_for_function("""() => {
            const s = Math.floor(document.getElementById('episode-audio').currentTime);
            return document.getElementById('position').innerText ===
                String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0'); }""")
    assert not page.problems, page.problems


def test_transcript_highlight_follows_current_time(page, site):
    open_page(page, site, SEED)
    cues = page.locator("#transcript .cue").evaluate_all("els => els.map(e => [parseFloat(e.dataset.start), e.textContent])")
    assert len(cues) > 30
    for k in (0, 7, 20, len(cues) - 1):
        start, text = cues[k]
        page.evaluate("t => { const a = document.getElementById('episode-audio'); a.currentTime = t; }", start + 0.05)
        page.wait_for_function("k => document.querySelectorAll('#transcript .cue')[k].classList.contains('current')", arg=k,
                               timeout=5000)
        current = page.locator("#transcript .cue.current")
        assert current.count() == 1 and current.get_attribute("aria-current") == "true"
        assert page.locator("#caption").inner_text() == text
    # and a click on a sentence seeks there
    page.locator("#transcript .cue").nth(12).click()
    t = page.evaluate("() => document.getElementById('episode-audio').currentTime")
    assert abs(t - cues[12][0]) < 0.5
    page.evaluate("() => document.getElementById('episode-audio').pause()")
    page.locator("#transcript .cue").nth(12).scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-transcript.png"))
    assert not page.problems, page.problems


def test_keyboard_only(page, site):
    open_page(page, site, SEED)
    audio = "document.getElementById('episode-audio')"
    tab_to(page, "#play")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "focus must be visible"
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => !{audio}.paused", timeout=5000)
    assert page.locator("#play").get_attribute("aria-label") == "Pause"
    page.keyboard.press("Space")
    page.wait_for_function(f"() => {audio}.paused", timeout=5000)
    tab_to(page, "#seek")
    before = page.evaluate(f"() => {audio}.currentTime")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert page.evaluate(f"() => {audio}.currentTime") > before
    tab_to(page, "#forward")
    before = page.evaluate(f"() => {audio}.currentTime")
    page.keyboard.press("Enter")
    assert page.evaluate(f"() => {audio}.currentTime") == pytest.approx(before + 15, abs=0.3)
    tab_to(page, "#speed")
    page.keyboard.press("ArrowDown")  # 1x -> 1.25x
    assert page.evaluate(f"() => {audio}.playbackRate") == 1.25
    tab_to(page, ".chapters li:nth-child(2) > button.chapter")  # the second chapter
    start = float(page.evaluate("() => document.activeElement.dataset.start"))
    page.keyboard.press("Enter")
    assert start - 0.001 <= page.evaluate(f"() => {audio}.currentTime") < start + 1
    page.evaluate(f"() => {audio}.pause()")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page.png"))
    assert not page.problems, page.problems


@pytest.mark.parametrize("slug", ["", SEED + "/", "002_knee_pain_short_and_long/", SEED + "/embed.html"])
def test_axe_finds_no_serious_violation(page, site, slug):
    page.goto(site + slug)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious]


def test_without_javascript_native_controls_and_text(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}{SEED}/")
    assert page.locator("#episode-audio").evaluate("a => a.controls && a.getBoundingClientRect().height > 0")
    assert page.locator("#player-controls").is_hidden()
    assert page.locator("audio[controls]").count() == 6
    text = page.locator("main").inner_text()
    assert "Other Voices" in text and "Currently, all malignancies tend to metastasize." in text
    assert page.locator("track[kind=captions]").count() == 6
    context.close()
