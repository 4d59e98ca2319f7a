"""The names build and check agree on (:mod:`audiofeed.names`): what one side writes, the other reads."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mutagen.id3 import ID3

from audiofeed import names
from audiofeed.check import readers as checking
from audiofeed.audio.encoding import FRAME_HEADER
from audiofeed.audio.tagging import TrackTags, tagged_mp3


def test_custom_tags_written_by_tagging_are_read_by_check(tmp_path: Path):
    tags = TrackTags(title="Q?", artist="Dr A", album="Show", date=date(2025, 1, 2), length_ms=24,
                     listed_runtime="1min 11sec", description="d", text="t", people=(("Urology", "Dr A"),),
                     publisher="p", url="", cover=b"", speaking_rate=163, silence_added=-0.25)
    path = tmp_path / names.EPISODE_FILE
    path.write_bytes(tagged_mp3(FRAME_HEADER + bytes(188), tags))
    id3 = ID3(path)
    assert checking.custom_tag(id3, names.LISTED_RUNTIME_TAG) == "1min 11sec"
    assert checking.custom_tag(id3, names.SPEAKING_RATE_TAG) == 163
    assert checking.custom_tag(id3, names.SILENCE_ADDED_TAG) == -0.25


def test_answer_files_are_parsed_back():
    for index in (0, 7, 12, 123):
        stem = names.page_file("page", names.answer_stem(index))
        assert names.answer_index(f"{stem}.mp3") == index
    assert names.answer_index(names.EPISODE_FILE) is None
