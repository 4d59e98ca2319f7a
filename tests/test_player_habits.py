"""Habits of podcast players, in headless Chromium against `audiofeed serve`: links with a time,
resuming, the Media Session, downloads, transcript search and follow-along, keys, and the embed."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import BASE_URL
from .test_player import SEED, open_page, page, site  # noqa: F401  (fixtures)

AUDIO = "document.getElementById('episode-audio')"


def now(page) -> float:
    return page.evaluate(f"() => {AUDIO}.currentTime")


def chapters(page) -> list[dict]:
    return page.locator("button.chapter").evaluate_all(
        "els => els.map(e => ({start: parseFloat(e.dataset.start), question: e.dataset.question, doctor: e.dataset.doctor}))")


def wait_for_time(page, seconds: float, within: float = 0.3) -> None:
    page.wait_for_function(f"([t, d]) => Math.abs({AUDIO}.currentTime - t) <= d", arg=[seconds, within], timeout=10_000)


@pytest.mark.parametrize("fragment, seconds", [("t=75", 75), ("t=1:15", 75), ("t=1:02.5", 62.5), ("t=npt:90", 90)])
def test_a_link_with_a_time_starts_there(page, site, fragment, seconds):
    page.goto(f"{site}{SEED}/#{fragment}")
    wait_for_time(page, seconds)
    assert page.locator("#position").inner_text() == f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"
    expect(page.locator("#share-status")).to_contain_text("Starting at")
    page.evaluate("() => { location.hash = 't=2:00'; }")  # a second link on the same page
    wait_for_time(page, 120)
    assert not page.problems, page.problems


def test_share_from_here_copies_a_link_that_starts_there(page, site):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.rstrip("/"))
    open_page(page, site, SEED)
    third = chapters(page)[2]
    page.locator(".chapters li:nth-child(3) button.share").click()
    expect(page.locator("#share-status")).to_contain_text("Link copied")
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link == f"{site}{SEED}/#t={third['start']:g}", link
    page.locator("#transcript .cue").nth(10).click()  # a sentence, then "share from the current sentence"
    cue_start = float(page.locator("#transcript .cue").nth(10).get_attribute("data-start"))
    page.evaluate(f"() => {AUDIO}.pause()")
    page.locator("#share-sentence").click()
    expect(page.locator("#share-status")).to_contain_text(f"#t={cue_start:g}")
    sentence_link = page.evaluate("() => navigator.clipboard.readText()")
    other = page.context.new_page()
    other.goto(link)
    wait_for_time(other, third["start"])
    other.goto(sentence_link)
    wait_for_time(other, cue_start)
    assert not page.problems, page.problems


def test_leaving_and_coming_back_resumes_and_a_finished_episode_starts_again(page, site):
    open_page(page, site, SEED)
    page.evaluate(f"() => {{ {AUDIO}.currentTime = 100; }}")
    wait_for_time(page, 100)
    page.goto(site)  # leave
    page.goto(f"{site}{SEED}/")  # and come back: no click
    wait_for_time(page, 100, within=2.5)
    expect(page.locator("#share-status")).to_contain_text("Resuming at 01:")
    duration = page.evaluate(f"() => {AUDIO}.duration")
    page.evaluate(f"() => {{ {AUDIO}.currentTime = {duration - 0.4}; {AUDIO}.play(); }}")
    page.wait_for_function(f"() => {AUDIO}.ended", timeout=20_000)
    page.goto(f"{site}{SEED}/")
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1", timeout=20_000)
    assert now(page) == 0 and "Resuming" not in page.locator("#share-status").inner_text()
    assert not page.problems, page.problems


def test_media_session_carries_the_chapter_and_its_actions_work(page, site):
    open_page(page, site, SEED)
    marks = chapters(page)
    page.locator("button.chapter").nth(1).click()  # plays from the second chapter
    page.wait_for_function(f"() => !{AUDIO}.paused", timeout=10_000)
    page.wait_for_function("q => navigator.mediaSession.metadata && navigator.mediaSession.metadata.title === q",
                           arg=marks[1]["question"], timeout=10_000)
    meta = page.evaluate("""() => { const m = navigator.mediaSession.metadata;
        return {artist: m.artist, album: m.album, artwork: m.artwork.map(a => a.src), state: navigator.mediaSession.playbackState}; }""")
    assert meta["artist"] == marks[1]["doctor"] and meta["album"] == "Doctors' Answers, Read Aloud"
    assert meta["artwork"] == [f"{site}cover.png"] and meta["state"] == "playing"
    actions = "window.audiofeedPlayer.actions"
    page.evaluate(f"() => {actions}.nexttrack()")
    wait_for_time(page, marks[2]["start"], within=1.0)
    page.wait_for_function("q => navigator.mediaSession.metadata.title === q", arg=marks[2]["question"], timeout=10_000)
    page.evaluate(f"() => {actions}.previoustrack()")  # right at a chapter's start: the one before
    wait_for_time(page, marks[1]["start"], within=1.0)
    page.evaluate(f"() => {actions}.seekto({{seekTime: 30}})")
    wait_for_time(page, 30, within=1.0)
    page.evaluate(f"() => {actions}.seekforward({{}})")
    wait_for_time(page, 45, within=1.0)
    page.evaluate(f"() => {actions}.seekbackward({{seekOffset: 10}})")
    wait_for_time(page, 35, within=1.0)
    page.evaluate(f"() => {actions}.pause()")
    page.wait_for_function(f"() => {AUDIO}.paused && navigator.mediaSession.playbackState === 'paused'", timeout=5000)
    page.evaluate(f"() => {actions}.play()")
    page.wait_for_function(f"() => !{AUDIO}.paused", timeout=5000)
    page.evaluate(f"() => {AUDIO}.pause()")
    assert not page.problems, page.problems


def test_download_links_for_the_episode_and_each_answer(page, site):
    open_page(page, site, SEED)
    links = page.locator("a[download]")
    expect(links.first).to_be_visible()
    hrefs = links.evaluate_all("els => els.map(a => a.href)")
    assert hrefs[0] == f"{site}{SEED}/episode.mp3"
    assert [h.rsplit("/", 1)[1] for h in hrefs[1:]] == [f"answer-{i:02d}.mp3" for i in range(1, 6)]
    for href in hrefs:
        with urllib.request.urlopen(urllib.request.Request(href, method="HEAD"), timeout=10) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "audio/mpeg"
    assert re.fullmatch(r"Download the episode \(MP3, \d+\.\d MB\)", links.first.inner_text())


def test_transcript_search_highlights_and_jumps(page, site):
    open_page(page, site, SEED)
    texts = page.locator("#transcript .cue").evaluate_all("els => els.map(e => [parseFloat(e.dataset.start), e.textContent])")
    expected = [start for start, text in texts if "lymph" in text.lower()]
    assert len(expected) >= 2
    page.keyboard.press("/")  # the shortcut puts the focus in the search box
    page.keyboard.type("Lymph")
    expect(page.locator("#search-count")).to_contain_text(f"{len(expected)} sentences match")
    assert page.locator("#transcript .cue.match").count() == len(expected)
    page.keyboard.press("Enter")
    wait_for_time(page, expected[0])
    page.keyboard.press("Enter")
    wait_for_time(page, expected[1])
    page.keyboard.press("Escape")
    assert page.locator("#transcript .cue.match").count() == 0
    assert not page.problems, page.problems


def test_follow_along_keeps_the_current_sentence_in_view(page, site):
    open_page(page, site, SEED)
    expect(page.locator("#follow")).to_be_checked()
    last = page.locator("#transcript .cue").last
    start = float(last.get_attribute("data-start"))
    page.evaluate("() => window.scrollTo(0, 0)")
    page.evaluate(f"t => {{ {AUDIO}.currentTime = t; {AUDIO}.play(); }}", start + 0.05)
    page.wait_for_function("""() => { const c = document.querySelector('#transcript .cue.current');
        if (!c) return false; const r = c.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }""",
                           timeout=10_000)
    page.evaluate(f"() => {AUDIO}.pause()")
    page.locator("#follow").uncheck()  # off: playing no longer scrolls the page
    page.evaluate("() => window.scrollTo(0, 0)")
    page.evaluate(f"t => {{ {AUDIO}.currentTime = t; {AUDIO}.play(); }}", float(page.locator("#transcript .cue").nth(30).get_attribute("data-start")) + 0.05)
    page.wait_for_function("() => document.querySelectorAll('#transcript .cue')[30].classList.contains('current')", timeout=10_000)
    assert page.evaluate("() => window.scrollY") == 0
    page.evaluate(f"() => {AUDIO}.pause()")


def test_keys_for_chapters_and_the_list_of_shortcuts(page, site):
    open_page(page, site, SEED)
    marks = chapters(page)
    shortcuts = page.locator("details.shortcuts")
    expect(shortcuts).to_be_visible()
    shortcuts.locator("summary").click()
    assert "Previous or next chapter" in shortcuts.inner_text() and "Alt" in shortcuts.inner_text()
    page.locator("h1").click()  # focus on the page, not a control
    page.keyboard.press("Alt+ArrowRight")  # from the voice note that opens the episode to the first answer
    wait_for_time(page, marks[0]["start"])
    page.keyboard.press("Alt+ArrowRight")
    wait_for_time(page, marks[1]["start"])
    page.keyboard.press("Alt+ArrowRight")
    wait_for_time(page, marks[2]["start"])
    page.keyboard.press("Alt+ArrowLeft")
    wait_for_time(page, marks[1]["start"])
    page.keyboard.press("ArrowRight")
    wait_for_time(page, marks[1]["start"] + 15)
    page.keyboard.press("k")
    page.wait_for_function(f"() => !{AUDIO}.paused", timeout=5000)
    page.keyboard.press("k")
    page.wait_for_function(f"() => {AUDIO}.paused", timeout=5000)
    assert not page.problems, page.problems


def test_the_embed_plays_in_another_sites_iframe(page, site):
    open_page(page, site, SEED)
    details = page.locator("details.embed")
    details.locator("summary").click()
    code = page.locator("#embed-code").input_value()
    src = re.search(r'<iframe src="([^"]+)"', code).group(1)
    assert src.endswith(f"{SEED}/embed.html")
    assert src == f"{BASE_URL}{SEED}/embed.html"  # the public address the build was made for
    local_src = site + src.removeprefix(BASE_URL)  # the same file, as served here
    page.set_content(f'<!DOCTYPE html><title>Another site</title><iframe src="{local_src}" width="600" height="190"></iframe>')
    frame = page.frame_locator("iframe")
    frame.locator("#play").click()
    inner = page.frames[1]
    inner.wait_for_function(f"() => !{AUDIO}.paused && {AUDIO}.currentTime > 0", timeout=10_000)
    expect(frame.locator(".embed-title a")).to_have_attribute("target", "_top")
    inner.evaluate(f"() => {AUDIO}.pause()")
    assert not page.problems, page.problems
