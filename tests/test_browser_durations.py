"""A browser agrees with the listed runtimes: Chromium's <audio>.duration for every MP3."""

from __future__ import annotations

from mutagen.mp3 import MP3

from audiofeed.read import read_page

from .conftest import ARTICLES

TOLERANCE_S = 0.030


def test_chromium_reports_listed_runtimes(built, browser):
    mp3s, expected = [], {}
    for path in sorted(ARTICLES.glob("*.txt")):
        page = read_page(path)
        for i, answer in enumerate(page.answers):
            mp3 = built.output / page.slug / f"answer-{i:02d}.mp3"
            mp3s.append(mp3)
            expected[mp3.as_uri()] = answer.listed_runtime or MP3(mp3).info.length
        episode = built.output / page.slug / "episode.mp3"
        mp3s.append(episode)
        expected[episode.as_uri()] = MP3(episode).info.length
    html = built.output.parent / "durations.html"
    html.write_text("".join(f'<audio preload="metadata" src="{m.as_uri()}"></audio>' for m in mp3s))
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(html.as_uri())
    page.wait_for_function(
        "() => [...document.querySelectorAll('audio')].every(a => a.readyState >= 1 && isFinite(a.duration))",
        timeout=30_000,
    )
    durations = page.evaluate("() => [...document.querySelectorAll('audio')].map(a => [a.src, a.duration])")
    assert len(durations) == len(mp3s) == 18
    for src, duration in durations:
        assert abs(duration - expected[src]) <= TOLERANCE_S, (src, duration, expected[src])
    assert not errors
    page.close()
