"""`audiofeed check` on a real build, then on copies of it spoiled one way each."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from mutagen.id3 import ID3, TLEN

from audiofeed.check.readers import READERS, Compare

from .conftest import ARTICLES, BASE_URL, run_build, run_check

PAGE = "000_4fe75e9a818bb161"


@pytest.fixture
def spoilt(built, tmp_path) -> Path:
    """A private copy of the real build, to spoil."""
    out = tmp_path / "output"
    shutil.copytree(built.output, out)
    return out


def errors(result) -> list[str]:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    return [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]


def test_clean_build_passes_with_every_reader_reported(built):
    result = run_check(built.output, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] and len(doc["answers"]) == 14
    listed = [a for a in doc["answers"] if a["listed_ms"] is not None]
    assert len(listed) == 10
    for a in listed:
        for reader in (r.field for r in READERS if r.compare is Compare.RUNTIME):
            assert abs(a[reader] - a["listed_ms"]) <= 30, (a["question"], reader)
        assert a["answers_feed_s"] * 1000 == a["listed_ms"]
        assert 100 <= a["rate_wpm"] <= 240 and a["silence_added_s"] is not None
        assert a["transcripts"] == "vtt srt html json"
    assert all(a["page_feed_s"] for a in doc["answers"])
    # Lead answers too: a name that build and check disagree on would blank a column here.
    for a in doc["answers"]:
        listening = ("heard_", "captions_")  # only --listen hears, and times captions by what it hears
        blank = [k for k, v in a.items() if v is None and k != "listed_ms" and not k.startswith(listening)]
        assert all(a[k] is None for k in a if k.startswith(listening))
        assert not blank, (a["question"], blank)


def test_table_and_csv(built):
    table = run_check(built.output)
    assert table.returncode == 0
    for column in ("listed", "ffmpeg", "header", "TLEN", "CHAP", "JSON", "psc", "answers.xml", "feed.xml", "wpm"):
        assert column in table.stdout
    assert "0 error(s)" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run_check(built.output, "--csv").stdout)))
    assert len(rows) == 14 and {"listed_ms"} | {r.field for r in READERS} <= set(rows[0])
    header = next(line for line in table.stdout.splitlines() if "listed" in line)
    assert all(r.column[:5] in header for r in READERS if r.column), header  # one column per reader that has one


def test_tag_duration_beyond_tolerance(spoilt):
    path = spoilt / PAGE / "answer-02.mp3"
    tags = ID3(path)
    tags.add(TLEN(encoding=3, text="39100"))
    tags.save(path, v2_version=3)
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/answer-02.mp3: TLEN: 39100 ms" in e for e in errors(result))


def test_tolerance_option(spoilt):
    path = spoilt / PAGE / "answer-02.mp3"
    tags = ID3(path)
    tags.add(TLEN(encoding=3, text="39010"))
    tags.save(path, v2_version=3)
    assert run_check(spoilt).returncode == 0
    assert run_check(spoilt, "--tolerance", "5").returncode == 1


def test_enclosure_length_not_file_size(spoilt):
    feed = spoilt / "answers.xml"
    size = (spoilt / PAGE / "answer-03.mp3").stat().st_size
    feed.write_text(feed.read_text().replace(f'length="{size}"', f'length="{size + 7}"'))
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any("enclosure length" in e and f"{size + 7}" in e and f"{size} bytes" in e for e in errors(result))


def test_missing_file(spoilt):
    (spoilt / PAGE / "answer-04.mp3").unlink()
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/answer-04.mp3: file: missing" in e for e in errors(result))


def test_unreadable_file(spoilt):
    (spoilt / PAGE / "answer-05.mp3").write_bytes(b"this is not audio at all\n" * 100)
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/answer-05.mp3" in e and ("unreadable" in e or "cannot decode" in e) for e in errors(result))


def test_truncated_mp3(spoilt):
    path = spoilt / PAGE / "answer-01.mp3"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = run_check(spoilt)
    assert result.returncode == 1
    errs = errors(result)
    assert any(f"{PAGE}/answer-01.mp3: decoded (ffmpeg)" in e and "listed runtime is 71000 ms" in e for e in errs)
    assert any("enclosure length" in e for e in errs)


def test_chapters_out_of_order_and_overlapping(spoilt):
    path = spoilt / PAGE / "chapters.json"
    doc = json.loads(path.read_text())
    doc["chapters"][1], doc["chapters"][2] = doc["chapters"][2], doc["chapters"][1]
    path.write_text(json.dumps(doc))
    result = run_check(spoilt)
    assert result.returncode == 1 and any("chapters out of order" in e for e in errors(result))
    doc = json.loads(path.read_text())
    doc["chapters"].sort(key=lambda c: c["startTime"])
    doc["chapters"][0]["endTime"] += 5
    path.write_text(json.dumps(doc))
    result = run_check(spoilt)
    assert result.returncode == 1 and any("overlaps the next" in e for e in errors(result))


def test_deleted_chapters_file(spoilt):
    (spoilt / PAGE / "chapters.json").unlink()
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/chapters.json: file: missing" in e for e in errors(result))


def test_feed_that_does_not_parse(spoilt):
    (spoilt / "feed.xml").write_text("<rss><channel><title>cut off")
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any("feed.xml: xml: does not parse" in e for e in errors(result))


def test_guid_used_twice(spoilt):
    feed = spoilt / "answers.xml"
    text = feed.read_text()
    guids = [part.split("<", 1)[0] for part in text.split('<guid isPermaLink="false">')[1:]]
    feed.write_text(text.replace(guids[1], guids[0]))
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"answers.xml: guid: GUID '{guids[0]}' is used by 2 items" in e for e in errors(result))


def test_itunes_duration_mismatch(spoilt):
    feed = spoilt / "answers.xml"
    feed.write_text(feed.read_text().replace("<itunes:duration>71</itunes:duration>", "<itunes:duration>75</itunes:duration>"))
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any("itunes:duration: 75 s but the page lists 71 s" in e for e in errors(result))


def test_missing_transcript(spoilt):
    (spoilt / PAGE / "answer-02.vtt").unlink()
    (spoilt / PAGE / "episode.srt").write_text("1\nnot a time\nhello\n")
    result = run_check(spoilt)
    assert result.returncode == 1
    errs = errors(result)
    assert any(f"{PAGE}/answer-02.vtt: file: missing" in e for e in errs)
    assert any(f"{PAGE}/episode.srt: transcript: does not parse as srt" in e for e in errs)


def test_output_that_is_not_there(tmp_path):
    result = run_check(tmp_path / "nothing")
    assert result.returncode == 1 and errors(result)


def test_readability_warnings(tmp_path, articles_copy):
    seed = articles_copy / f"{PAGE}.txt"
    # 71 s of speech asked to fit 52 s (fast), 39 s asked to fill 90 s (padded), 47 s asked to fit 20 s (refused)
    seed.write_text(seed.read_text().replace("1min 11sec", "52sec").replace("39sec", "1min 30sec").replace("47sec", "20sec"))
    assert run_build(articles_copy, tmp_path / "out").code == 1
    result = run_check(tmp_path / "out", "--json", articles=articles_copy)
    assert result.returncode == 0, result.stderr  # warnings only
    doc = json.loads(result.stdout)
    warnings = [p["message"] for p in doc["problems"] if p["severity"] == "warning"]
    assert any("wpm is faster than 180 wpm" in w for w in warnings), warnings
    assert any("of the answer (over 20%)" in w for w in warnings), warnings
    assert any("Is late-stage kidney cancer contagious?" in w and "refused at build time: it needs" in w for w in warnings)
    statuses = {a["question"]: a["status"] for a in doc["answers"]}
    assert statuses["Will there be metastasis after kidney cancer removal?"] == "warning"


# -- every duration a client reads, against the decoded audio -------------------------------------
def _replace_nth(text: str, pattern: str, repl, n: int = 0) -> str:
    import re

    matches = list(re.finditer(pattern, text))
    m = matches[n]
    return text[: m.start()] + repl(m) + text[m.end():]


def test_a_lead_answers_feed_duration_is_checked_against_its_audio(spoilt):
    """The first answer of answers.xml is a lead answer: no listed runtime, so only the audio can tell
    (its first item is the voice note's trailer)."""
    feed = spoilt / "answers.xml"
    feed.write_text(_replace_nth(feed.read_text(), r"<itunes:duration>\d+</itunes:duration>",
                                 lambda m: "<itunes:duration>999</itunes:duration>", 1))
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any("answers.xml item" in e and "itunes:duration: 999 s but the answer decodes to" in e for e in errors(result))


def test_an_episodes_feed_duration_is_checked_against_its_audio(spoilt):
    feed = spoilt / "feed.xml"
    feed.write_text(_replace_nth(feed.read_text(), r"<itunes:duration>(\d+)</itunes:duration>",
                                 lambda m: f"<itunes:duration>{int(m.group(1)) + 2}</itunes:duration>"))
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any("feed.xml item" in e and "itunes:duration" in e and "the episode decodes to" in e for e in errors(result))


def test_a_json_chapter_start_is_checked_against_the_audio(spoilt):
    """Shift one chapter's start (its span too): spans alone would not show a start that is off."""
    path = spoilt / PAGE / "chapters.json"
    doc = json.loads(path.read_text())
    doc["chapters"][2]["startTime"] += 0.5
    doc["chapters"][1]["endTime"] += 0.5
    path.write_text(json.dumps(doc))
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/episode: chapters JSON start: chapter" in e and "starts at" in e for e in errors(result))


def test_a_psc_chapter_start_is_checked_against_the_audio(spoilt):
    feed = spoilt / "feed.xml"
    text = feed.read_text()
    start = text.index(f"{PAGE}/episode.mp3")
    head, tail = text[:start], text[start:]
    tail = _replace_nth(tail, r'<psc:chapter start="([0-9:.]+)"', lambda m: '<psc:chapter start="00:00:10.000"', n=1)
    feed.write_text(head + tail)
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/episode: psc:chapters start" in e for e in errors(result)), errors(result)


def test_an_id3_chapter_start_is_checked_against_the_audio(spoilt):
    from audiofeed.audio.tagging import OrderedChaptersID3

    path = spoilt / PAGE / "episode.mp3"
    tags = OrderedChaptersID3(path)
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    chaps[3].start_time += 400
    chaps[2].end_time += 400
    tags.save(path, v2_version=3, padding=lambda info: 0)
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/episode: CHAP start" in e for e in errors(result)), errors(result)


def test_a_feed_item_limit_keeps_older_episodes_published_and_checked(tmp_path):
    """max_items: the feeds list the newest items only; older episodes stay on the web pages, and
    `check` still reads every one of their durations, from their files."""
    out = tmp_path / "output"
    run = run_build(ARTICLES, out, "--max-items", "2")
    assert run.code == 0, run.stderr
    import podcastparser

    with open(out / "feed.xml", "rb") as f:
        episodes = podcastparser.parse("https://example.org/feed.xml", f)["episodes"]
    assert [e["title"] for e in episodes] == ["When should a child's fever of 38.5 °C worry parents?",
                                              "Why does my knee hurt when I climb stairs?"]  # the two newest
    assert (out / "answers.xml").read_text().count("<item>") == 2 + 1  # and the voice note's trailer
    index = (out / "index.html").read_text()
    assert all(f'href="{p.name}/index.html"' in index for p in out.iterdir() if (p / "episode.mp3").is_file())
    doc = json.loads(run_check(out, "--json").stdout)
    assert doc["ok"] and len(doc["answers"]) == 14 and not doc["problems"]
    older = out / PAGE / "answer-01.mp3"  # outside both feeds
    tags = ID3(older)
    tags.add(TLEN(encoding=3, text="99999"))
    tags.save(older)
    result = run_check(out)
    assert result.returncode == 1
    assert any(f"{PAGE}/answer-01.mp3: TLEN: 99999 ms" in e for e in errors(result)), result.stderr


def test_html_report_on_a_good_and_a_spoiled_build(built, spoilt, tmp_path, browser):
    good, bad = tmp_path / "good.html", tmp_path / "bad.html"
    assert run_check(built.output, "--html", str(good)).returncode == 0
    tags = ID3(spoilt / PAGE / "answer-02.mp3")
    tags.add(TLEN(encoding=3, text="45000"))
    tags.save(spoilt / PAGE / "answer-02.mp3")
    assert run_check(spoilt, "--html", str(bad)).returncode == 1
    for report, ok in ((good, True), (bad, False)):
        html = report.read_text()
        assert "<script" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: problems.append(r.url))
        page.goto(report.as_uri())
        assert page.locator("svg[role=img]").count() == 4  # a timeline per episode
        assert page.locator(f"svg[aria-label^='Timeline of {PAGE}'] rect").count() == 6  # a chapter per answer
        assert page.locator("section tbody tr").count() == 14
        if ok:
            assert "Every duration agrees" in page.locator(".summary").inner_text()
            assert page.locator("td.off").count() == 0
        else:
            row = page.locator("tr", has_text="What are the common symptoms of kidney cancer?")
            assert "✗ mismatch" in row.locator("td.status").inner_text()
            assert row.locator("td.off").inner_text() == "45.000 ✗"
            assert page.locator(f"svg[aria-label^='Timeline of {PAGE}'] rect[stroke='#b42318']").count() == 1
            assert "TLEN: 45000 ms" in page.locator("ul.problems").inner_text()
        page.screenshot(path=str(tmp_path / f"{report.stem}.png"), full_page=True)
        assert not problems, problems
        context.close()


def test_two_answers_of_one_runtime_swapped_are_caught_by_their_tags(tmp_path):
    """Answers 3 and 4 of the seed page listed at 48 s each: swapped, lengths and all, every duration
    agrees; their tags do not agree with the items they sit under."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / f"{PAGE}.txt").write_text((ARTICLES / f"{PAGE}.txt").read_text().replace("47sec home-news", "48sec home-news"))
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    assert run_check(out, articles=articles).returncode == 0
    a, b = out / PAGE / "answer-03.mp3", out / PAGE / "answer-04.mp3"
    size_a, size_b = a.stat().st_size, b.stat().st_size
    tmp = out / PAGE / "swap.tmp"
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    feed = out / "answers.xml"
    text = feed.read_text()
    text = text.replace(f'{PAGE}/answer-03.mp3" length="{size_a}"', f'{PAGE}/answer-03.mp3" length="{size_b}"')
    text = text.replace(f'{PAGE}/answer-04.mp3" length="{size_b}"', f'{PAGE}/answer-04.mp3" length="{size_a}"')
    feed.write_text(text)
    result = run_check(out, articles=articles)
    assert result.returncode == 1
    found = [e for e in errors(result) if "ID3 title/artist" in e]
    assert {e.split(":")[1].strip() for e in found} == {f"{PAGE}/answer-03.mp3", f"{PAGE}/answer-04.mp3"}, errors(result)
    assert all("it is not this answer's audio" in e for e in found)


def test_an_answer_one_frame_short_with_its_length_fixed_fails(spoilt):
    """The build meets every runtime within half a frame (12 ms): one frame (24 ms) short is caught."""
    path = spoilt / PAGE / "answer-02.mp3"
    data = path.read_bytes()
    size = len(data)
    path.write_bytes(data[:-192])  # the last 24 ms frame (64 kbit/s at 48 kHz: 192 bytes)
    tags = ID3(path)
    tags.add(TLEN(encoding=3, text=str(int(tags["TLEN"].text[0]) - 24)))
    tags.save(path, v2_version=3)
    new = path.stat().st_size
    feed = spoilt / "answers.xml"
    feed.write_text(feed.read_text().replace(f'{PAGE}/answer-02.mp3" length="{size}"', f'{PAGE}/answer-02.mp3" length="{new}"'))
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any(f"{PAGE}/answer-02.mp3" in e and "(tolerance 12 ms)" in e for e in errors(result)), errors(result)


def test_chapter_links_that_apps_would_open_are_checked(spoilt):
    chapters = spoilt / PAGE / "chapters.json"
    doc = json.loads(chapters.read_text())
    doc["chapters"][1]["url"] = "javascript:alert(1)"
    doc["chapters"][2]["img"] = "https://elsewhere.example/tracker.png"
    chapters.write_text(json.dumps(doc))
    result = run_check(spoilt)
    assert result.returncode == 1
    found = errors(result)
    assert any("chapters url" in e and "'javascript:alert(1)' is not an http(s) link" in e for e in found), found
    assert any("chapters img" in e and "is not under the show's address" in e for e in found), found


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_tolerance_that_checks_nothing_is_refused(built, tmp_path, value):
    flag = run_check(built.output, "--tolerance", value)
    assert flag.returncode == 2 and "Invalid value for '--tolerance'" in flag.stderr and "Traceback" not in flag.stderr
    articles = tmp_path / "articles"
    shutil.copytree(ARTICLES, articles)
    (tmp_path / "audiofeed.toml").write_text(f"[check]\ntolerance_ms = {value}\n")  # beside the articles
    result = run_check(built.output, articles=articles)
    assert result.returncode != 0 and "check.tolerance_ms" in result.stderr and "Traceback" not in result.stderr


def test_a_description_a_client_would_show_otherwise_fails(spoilt):
    """check reads descriptions as apps show them: gPodder's parser leaves `&#x27;` undecoded, so
    "child's" would show as "childs" (what the build wrote before it wrote apostrophes as they are)."""
    feed = spoilt / "answers.xml"
    text = feed.read_text(encoding="utf-8")
    assert "child's fever" in text
    feed.write_text(text.replace("child's fever", "child&amp;#x27;s fever"), encoding="utf-8")
    result = run_check(spoilt)
    assert result.returncode == 1
    assert any("answers.xml item" in e and "description: holds '&#x27;', which gPodder shows as nothing" in e
               for e in errors(result)), result.stderr


def test_an_item_whose_art_an_app_could_not_show_fails(spoilt):
    """check reads each item's art as an app would fetch it: a page's art.png that is not an
    image, and a podcast:image that names other art than itunes:image, are problems."""
    (art,) = [p for p in spoilt.glob("*/art.png") if "000_" in p.parent.name]
    art.write_text("<html>not a picture</html>")
    feed = spoilt / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    other = next(p.parent.name for p in spoilt.glob("*/art.png") if p != art)
    spoilt_text = text.replace(f'<podcast:image href="{BASE_URL}{other}/art.png"', f'<podcast:image href="{BASE_URL}cover.png"', 1)
    assert spoilt_text != text
    feed.write_text(spoilt_text, encoding="utf-8")
    result = run_check(spoilt)
    assert result.returncode == 1
    found = errors(result)
    assert any("itunes:image" in e and "art.png is not a PNG or JPEG file" in e for e in found), result.stderr
    assert any("podcast:image" in e and "is not the item's itunes:image" in e for e in found), result.stderr
