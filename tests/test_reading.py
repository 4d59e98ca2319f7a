"""Reading pages: the seed, the sample articles, and every kind of malformed input."""

from __future__ import annotations

from datetime import date

import pytest

from audiofeed.read import PageError, read_page

from .conftest import ARTICLES, SEED, run_build


def test_seed_page_is_read_whole():
    page = read_page(ARTICLES / "000_4fe75e9a818bb161.txt")
    assert page.title == "Kidney cancer most commonly metastasizes to which locations?"
    assert (page.doctor, page.specialty, page.updated) == ("Yan Chun", "Oncology", date(2025, 2, 12))
    assert [a.doctor for a in page.answers] == [
        "Yan Chun", "Wang Jian", "Zhou Qi", "Guan Hai Fang", "Xu Chun Hua", "Shen Jiang Chao"
    ]
    assert [a.listed_runtime for a in page.answers] == [None, 71, 39, 47, 48, 51]
    assert [a.specialty for a in page.answers][1:] == ["Urology", "Nephrology", "Urology", "Urology", "Radiology"]
    assert page.answers[1].question == "Will there be metastasis after kidney cancer removal?"
    assert page.answers[0].text.startswith("Kidney cancer clinically tends to metastasize")
    assert page.answers[0].text.endswith("the prognosis for the patients is poor.")
    assert "\n\n" in page.answers[0].text  # two paragraphs
    for a in page.answers:  # furniture is dropped
        for junk in ("doctor image", "home-news-image", "00:00"):
            assert junk not in a.text and junk not in a.question


SEED_SHA256 = "28a3036c97b9bc11bc213690e056204593853a42d946989617ba3ef0e34fcbb3"  # the seed page as it was handed over


def test_sample_seed_is_the_shared_seed():
    """articles/ holds the seed page byte for byte (in any checkout; and the shared copy, if it is beside it)."""
    import hashlib

    ours = (ARTICLES / "000_4fe75e9a818bb161.txt").read_bytes()
    assert hashlib.sha256(ours).hexdigest() == SEED_SHA256
    if SEED.exists():
        assert ours == (SEED / "000_4fe75e9a818bb161.txt").read_bytes()


def test_page_without_other_voices():
    page = read_page(ARTICLES / "001_seasonal_flu_lead_only.txt")
    assert len(page.answers) == 1 and page.answers[0].listed_runtime is None


def test_bom_crlf_and_non_ascii():
    path = ARTICLES / "003_fever_in_children_utf8.txt"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    page = read_page(path)
    assert page.title.startswith("When should a child")  # no BOM left in the title
    assert page.doctor == "Zoë Müller-Sánchez" and page.specialty == "Pédiatrie"
    assert [a.doctor for a in page.answers[1:]] == ["Søren Åkesson", "José Ñúñez"]
    assert "38.5 °C" in page.answers[0].text and "\r" not in page.answers[0].text


def test_runtimes_under_ten_seconds_and_over_two_minutes():
    page = read_page(ARTICLES / "002_knee_pain_short_and_long.txt")
    runtimes = [a.listed_runtime for a in page.answers[1:]]
    assert min(runtimes) < 10 and max(runtimes) > 120


SEED_TEXT = (ARTICLES / "000_4fe75e9a818bb161.txt").read_text()


def _spoil(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text
    return text.replace(old, new, count)


MALFORMED = {
    "bad_runtime.txt": (_spoil(SEED_TEXT, "39sec home-news-image", "39 secs-ish home-news-image").encode(),
                        29, "unparseable runtime"),
    "no_answer_text.txt": (
        _spoil(SEED_TEXT, SEED_TEXT[SEED_TEXT.index("Kidney cancer is a malignant tumor"):
                                    SEED_TEXT.index("doctor image\nhome-news-image\nWritten by Guan")], "").encode(),
        31, "has no answer text"),
    "truncated.txt": (SEED_TEXT[: SEED_TEXT.index("Nephrology") + len("Nephrology\n")].encode(), 27, "truncated answer block"),
    "empty.txt": (b"", None, "empty file"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 3, "binary file"),
    "latin1.txt": (SEED_TEXT.replace("Yan Chun", "Zoë Müller").encode("latin-1"), 3, "not UTF-8"),
    "no_header.txt": (b"Just a title\n\nAnd one line.\n", 1, "truncated header"),
    "bad_date.txt": (_spoil(SEED_TEXT, "February 12, 2025", "Febtober 41, 2025").encode(), 5, "unparseable date"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_page_names_file_and_line(tmp_path, name):
    data, line, message = MALFORMED[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(PageError) as info:
        read_page(path)
    problems = info.value.problems
    assert all(p.file == str(path) and p.line == (line or None) for p in problems if message in p.message), problems
    lines = [str(p) for p in problems]
    assert any(message in ln for ln in lines), lines
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert any(ln.startswith(prefix) and message in ln for ln in lines), lines
    assert all("\n" not in ln for ln in lines)


def test_build_with_malformed_pages_publishes_the_good_ones(tmp_path, articles_copy):
    for name, (data, _, _) in MALFORMED.items():
        (articles_copy / name).write_bytes(data)
    run = run_build(articles_copy, tmp_path / "out")
    assert run.code == 1
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    problem_lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    for name, (_, line, message) in MALFORMED.items():
        expected = f"{articles_copy / name}:{line}: " if line else f"{articles_copy / name}: "
        assert any(ln.startswith(expected) and message in ln for ln in problem_lines), (name, problem_lines)
    feed = (tmp_path / "out" / "feed.xml").read_text()
    assert feed.count("<item>") == 4  # every good sample page is still published
    assert "Kidney cancer most commonly metastasizes" in feed


def test_page_that_stops_parsing_keeps_its_published_episode(tmp_path, articles_copy):
    out = tmp_path / "out"
    assert run_build(articles_copy, out).code == 0
    before = (out / "000_4fe75e9a818bb161" / "episode.mp3").read_bytes()
    seed = articles_copy / "000_4fe75e9a818bb161.txt"
    seed.write_text(seed.read_text().replace("47sec", "47 seconds or so"))
    run = run_build(articles_copy, out)
    assert run.code == 1
    assert "last published episode stays" in run.stderr
    assert (out / "000_4fe75e9a818bb161" / "episode.mp3").read_bytes() == before
    assert "Kidney cancer most commonly metastasizes" in (out / "feed.xml").read_text()


def test_missing_articles_folder_is_one_line(tmp_path):
    run = run_build(tmp_path / "nowhere", tmp_path / "out")
    assert run.code != 0
    assert "Traceback" not in run.stderr
    assert "no such folder of articles" in run.stderr
