"""Episodes: a page and its answers' encoded audio in, tagged MP3 files and an :class:`Episode` out.

An episode is one page: its MP3 holds every answer in page order (lead first), made by joining
the answers' MP3 frames, so no second encode is needed and each chapter starts exactly on a
join. Each answer also gets an MP3 of its own. :class:`Episode` records everything the feeds and
checks need, and is saved beside the audio (``build.json``) so feeds can be rebuilt, and a
page that stops parsing can keep its last published episode, without the audio being redone.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date

from ..audio.answer import Failed, Outcome, Refused, Rendered
from ..audio.encoding import duration_ms
from ..read import Answer, Page
from ..read.pages import doctors_of, format_runtime
from ..text import shown_name
from ..names import (ART_FILE, CHAPTERS_FILE, COVER_FILE, EPISODE_STEM, RECORD_FILE, TRANSCRIPT_KINDS, VOICE_NOTE_SPEAKER,
                     VOICE_NOTE_STEM, VOICE_NOTE_TITLE, answer_stem, chapter_title, page_file)
from ..timecode import clock
from .transcripts import TranscriptSection, to_html, to_json, to_srt, to_vtt

GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://audiofeed.invalid/episodes")


@dataclass
class EpisodeAnswer:
    """One answer as published."""

    index: int
    question: str
    doctor: str
    specialty: str
    listed_runtime: int | None
    listed_runtime_text: str
    duration_ms: int
    start_ms: int  # where it starts in the episode MP3
    file: str  # relative to the output folder
    bytes: int
    rate: int
    silence_added: float
    guid: str
    text: str
    transcripts: dict[str, str] = field(default_factory=dict)  # kind (vtt, srt, html, json) -> file
    loudness: float | None = None
    true_peak: float | None = None
    spoken: str = ""  # what the engine was given: the text after normalization and the lexicon
    engine: str = ""  # the speech engine, by its name in audiofeed.speech.engine.ENGINES
    voice: str = ""  # the engine's voice id


@dataclass
class RefusedAnswer:
    """An answer the build would not publish: it needs a rate above the natural band."""

    index: int
    question: str
    doctor: str
    listed_runtime: int | None
    needed_rate: float


@dataclass
class Episode:
    """One page as published."""

    slug: str
    source: str
    title: str
    doctor: str
    specialty: str
    updated: str  # ISO date
    guid: str
    file: str
    bytes: int
    duration_ms: int
    chapters_file: str
    answers: list[EpisodeAnswer] = field(default_factory=list)
    transcripts: dict[str, str] = field(default_factory=dict)
    refused: list[RefusedAnswer] = field(default_factory=list)
    voice_note: str = ""  # the spoken disclosure's MP3 (the episode's first chapter), "" if none
    voice_note_ms: int = 0  # its length: the answers start after it
    voice_note_bytes: int = 0  # its file's size
    voice_note_text: str = ""  # what it says (as spoken)
    image: str = ""  # the episode's own art (its page's title on the show's art), "" if it has none

    @property
    def doctors(self) -> list[str]:
        """The doctors of its published answers, in order, each once."""
        return doctors_of(self.answers)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Episode:
        data = json.loads(text)
        data["answers"] = [EpisodeAnswer(**a) for a in data["answers"]]
        data["refused"] = [RefusedAnswer(**r) for r in data.get("refused", [])]
        return cls(**data)


def words_per_minute(text: str, ms: int) -> int:
    """The pace a listener hears: words of ``text`` per minute of its ``ms`` of audio, pauses included.

    >>> words_per_minute("one two three", 1500)
    120
    """
    return round(len(text.split()) * 60_000 / ms) if ms > 0 else 0


def page_guid(slug: str) -> str:
    """A page's GUID: stable across rebuilds and base-URL changes."""
    return str(uuid.uuid5(GUID_NAMESPACE, slug))


def kept_guids(page: Page, previous: Episode | None) -> tuple[str, dict[int, str]]:
    """The GUIDs a page's items keep: a GUID, once published, never changes (apps key episodes on it).

    The episode's: the page's pinned ``guid`` (front matter), else the one last published, else
    :func:`page_guid`. Each answer's: the one last published at the same place by the same doctor
    (so rewording a question or editing its text keeps it), else :func:`answer_guid`.
    """
    if previous is None:
        return page.guid or page_guid(page.slug), {}
    kept = {a.index: a.guid for a in previous.answers
            if a.index < len(page.answers) and page.answers[a.index].doctor == a.doctor and a.guid}
    return page.guid or previous.guid or page_guid(page.slug), kept


def answer_guid(slug: str, answer: Answer) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{slug}\n{answer.doctor}\n{answer.question}"))


@dataclass(frozen=True)
class EpisodeFiles:
    """Bytes to write, by path relative to the output folder, and the record describing them."""

    files: dict[str, bytes]
    episode: Episode
    sections: list[TranscriptSection]  # per answer, its cues timed in the episode MP3


def _transcript_files(stem: str, title: str, sections: list[TranscriptSection], language: str) -> dict[str, bytes]:
    cues = [c for section in sections for c in section.cues]
    texts = {"vtt": to_vtt(cues), "srt": to_srt(cues), "json": to_json(cues), "html": to_html(title, sections, language)}
    return {f"{stem}.{kind}": texts[kind].encode() for kind in TRANSCRIPT_KINDS}


def make_episode(
    page: Page,
    outcomes: dict[int, Outcome],
    *,
    album: str,
    publisher: str,
    cover: bytes,
    base_url: str,
    language: str = "en",
    engine: str = "",
    previous: Episode | None = None,
    said: str = "",
    voice_note: Rendered | None = None,
    art: tuple[bytes, bytes] | None = None,
    images: dict[str, str] | None = None,
) -> EpisodeFiles:
    """Tag each answer's MP3, join them into the episode MP3, write transcripts, and describe the result.

    ``outcomes`` holds each answer's outcome by its index: :class:`~audiofeed.audio.answer.Rendered`
    answers are published, :class:`~audiofeed.audio.answer.Refused` ones are recorded as refused.
    A page with a :class:`~audiofeed.audio.answer.Failed` answer, or with none rendered, is not
    an episode: ValueError (the builder keeps its last published episode instead).
    ``previous`` is the page as last published: its GUIDs are kept (:func:`kept_guids`).
    ``said`` is the disclosure (:mod:`.disclosure`), which every MP3's comment ends with;
    ``voice_note``, its rendering, opens the episode in a chapter of its own (each answer keeps its
    exact length; the episode is the note's length longer).
    ``art``, the page's own art (:func:`.cover.page_arts`: for the feeds, for the MP3s), is
    written beside the episode, embedded in its MP3s in place of ``cover`` and shown by its chapters;
    a doctor's chapters show the doctor's picture instead where ``images`` has one (a URL by name).
    """
    if failed := [i for i, o in outcomes.items() if isinstance(o, Failed)]:
        raise ValueError(f"answer(s) {', '.join(map(str, sorted(failed)))} failed to render")
    rendered = {i: o for i, o in outcomes.items() if isinstance(o, Rendered)}
    if not rendered:
        raise ValueError("no answer was rendered")
    refused = [RefusedAnswer(i, page.answers[i].question, page.answers[i].doctor, page.answers[i].listed_runtime,
                             round(o.needed_rate, 1))
               for i, o in sorted(outcomes.items()) if isinstance(o, Refused)]
    episode_guid, answer_guids = kept_guids(page, previous)
    from ..audio.tagging import Chapter, TrackTags, tagged_mp3  # mutagen: only where MP3s are tagged

    files: dict[str, bytes] = {}
    image_name = page_file(page.slug, ART_FILE) if art is not None else ""
    if art is not None:
        files[image_name], cover = art
    page_sections: list[TranscriptSection] = []
    answers: list[EpisodeAnswer] = []
    chapters: list[Chapter] = []
    start_frames = 0
    joined: list[bytes] = []
    note_name, note_ms = "", 0
    if voice_note is not None:
        note = voice_note.audio
        note_ms = duration_ms(note.frames)
        note_stem = page_file(page.slug, VOICE_NOTE_STEM)
        note_name = f"{note_stem}.mp3"
        files[note_name] = tagged_mp3(note.mp3, TrackTags(
            title=VOICE_NOTE_TITLE, artist=album, album=album, date=page.updated, length_ms=note_ms, listed_runtime="",
            description=said, text=said, people=(), publisher=publisher, url=f"{base_url}{note_name}", cover=cover))
        section = TranscriptSection(VOICE_NOTE_TITLE, VOICE_NOTE_SPEAKER, tuple(note.cues))
        files.update(_transcript_files(note_stem, VOICE_NOTE_TITLE, [section], language))  # for answers.xml's trailer
        page_sections.append(section)
        chapters.append(Chapter(VOICE_NOTE_TITLE, 0, note_ms))
        joined.append(note.mp3)
        start_frames = note.frames
    for index, answer in enumerate(page.answers):
        if index not in rendered:
            continue
        a, spoken, voice = rendered[index].audio, rendered[index].spoken, rendered[index].voice
        length = duration_ms(a.frames)
        stem = page_file(page.slug, answer_stem(index))
        name = f"{stem}.mp3"
        tags = TrackTags(
            title=answer.question,
            artist=answer.doctor,
            album=album,
            date=page.updated,
            length_ms=length,
            listed_runtime=format_runtime(answer.listed_runtime),
            description=" ".join(p for p in (f"{answer.doctor} ({answer.specialty}) answers: {answer.question}", said) if p),
            text=answer.text,
            people=((answer.specialty, answer.doctor),),
            publisher=publisher,
            url=f"{base_url}{name}",
            cover=cover,
            speaking_rate=words_per_minute(spoken or answer.text, length),
            silence_added=round(a.silence_added, 3),
        )
        data = tagged_mp3(a.mp3, tags)
        files[name] = data
        start = duration_ms(start_frames)
        section = TranscriptSection(answer.question, f"{answer.doctor}, {answer.specialty}", tuple(a.cues))
        files.update(_transcript_files(stem, answer.question, [section], language))
        page_sections.append(section.shifted(start / 1000))
        chapters.append(Chapter(chapter_title(answer.question, answer.doctor), start, start + length))
        answers.append(
            EpisodeAnswer(
                index=index,
                question=answer.question,
                doctor=answer.doctor,
                specialty=answer.specialty,
                listed_runtime=answer.listed_runtime,
                listed_runtime_text=format_runtime(answer.listed_runtime),
                duration_ms=length,
                start_ms=start,
                file=name,
                bytes=len(data),
                rate=a.rate,
                silence_added=round(a.silence_added, 3),
                guid=answer_guids.get(index) or answer_guid(page.slug, answer),
                text=answer.text,
                transcripts={kind: f"{stem}.{kind}" for kind in TRANSCRIPT_KINDS},
                loudness=a.loudness,
                true_peak=a.true_peak,
                spoken=spoken,
                engine=engine,
                voice=voice,
            )
        )
        joined.append(a.mp3)
        start_frames += a.frames
    total = duration_ms(start_frames)
    people = tuple(dict.fromkeys((a.specialty, a.doctor) for a in page.answers))
    episode_stem = page_file(page.slug, EPISODE_STEM)
    episode_name = f"{episode_stem}.mp3"
    tags = TrackTags(
        title=page.title,
        artist="/".join(doctors_of(answers)),
        album=album,
        date=page.updated,
        length_ms=total,
        listed_runtime="",
        description="\n".join(p for p in (show_notes_text(answers), said) if p),
        text="\n\n".join(f"{a.question}\n{a.text}" for a in answers),
        people=people,
        publisher=publisher,
        url=f"{base_url}{episode_name}",
        cover=cover,
    )
    data = tagged_mp3(b"".join(joined), tags, chapters)
    files[episode_name] = data
    chapters_name = page_file(page.slug, CHAPTERS_FILE)
    files[chapters_name] = chapters_json(answers, page.title, f"{base_url}{page.slug}/",
                                         f"{base_url}{image_name or COVER_FILE}", note_ms, images).encode()
    files.update(_transcript_files(episode_stem, page.title, page_sections, language))
    episode = Episode(
        slug=page.slug,
        source=shown_name(page.source.name),
        title=page.title,
        doctor=page.doctor,
        specialty=page.specialty,
        updated=page.updated.isoformat(),
        guid=episode_guid,
        file=episode_name,
        bytes=len(data),
        duration_ms=total,
        chapters_file=chapters_name,
        answers=answers,
        transcripts={kind: f"{episode_stem}.{kind}" for kind in TRANSCRIPT_KINDS},
        refused=refused,
        voice_note=note_name,
        voice_note_ms=note_ms,
        voice_note_bytes=len(files[note_name]) if note_name else 0,
        voice_note_text=voice_note.spoken if voice_note is not None else "",
        image=image_name,
    )
    files[page_file(page.slug, RECORD_FILE)] = episode.to_json().encode()
    return EpisodeFiles(files=files, episode=episode, sections=page_sections)


def show_notes_text(answers: list[EpisodeAnswer]) -> str:
    return "\n".join(f"{clock(a.start_ms)} {a.question} ({a.doctor}, {a.specialty})" for a in answers)


def chapters_json(answers: list[EpisodeAnswer], title: str, page_url: str = "", image: str = "",
                  voice_note_ms: int = 0, images: dict[str, str] | None = None) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0) of the episode ``title``, sorted by start time;
    each chapter links its answer on the page (``page_url#answer-NN``) and shows ``image`` (the
    episode's art), or its doctor's picture from ``images``.
    A voice note of ``voice_note_ms`` opens the episode in a chapter of its own."""
    note = [{"startTime": 0, "endTime": voice_note_ms / 1000, "title": VOICE_NOTE_TITLE,
             **({"url": page_url} if page_url else {}), **({"img": image} if image else {})}] if voice_note_ms else []
    doc = {
        "version": "1.2.0",
        "title": title,
        "chapters": note + [
            {
                "startTime": a.start_ms / 1000,
                "endTime": (a.start_ms + a.duration_ms) / 1000,
                "title": chapter_title(a.question, a.doctor),
                **({"url": f"{page_url}#{answer_stem(a.index)}" if a.index else page_url} if page_url else {}),
                **({"img": (images or {}).get(a.doctor) or image} if image or (images or {}).get(a.doctor) else {}),
            }
            for a in sorted(answers, key=lambda a: a.start_ms)
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def updated_date(episode: Episode) -> date:
    return date.fromisoformat(episode.updated)

