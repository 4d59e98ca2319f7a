"""Checking: a published output folder in, a :class:`~audiofeed.check.readers.CheckReport` out.

Reads what was published the way clients do, from the files alone and not from the build's
memory: :mod:`.published` finds every episode and answer (through the feeds, or ``build.json``
beyond their item limit); this module reads each duration with every reader and compares. Each duration is compared with
the runtime the source page lists; every chapter start with where its answer's audio starts in
the decoded episode (after the voice note). Every problem names its file and field; corrupt files
give problems, never exceptions.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..defaults import TOLERANCE_MS
from ..names import (FEED_FILE, LISTED_RUNTIME_TAG, TRANSCRIPT_KINDS, VOICE_NOTE_FILE, VOICE_NOTE_TITLE,
                     chapter_title)
from ..problems import Problem, Severity
from ..read import PageError, find_pages, read_page
from ..read.pages import parse_runtime
from ..timecode import seconds_to_ms
from .files import _not_json, _title, _unsafe_link, decoded_ms
from .published import CAPTION_KINDS, PublishedAnswer, PublishedEpisode, Publication, read_cues, relative
from .readers import (CHAPTER_FORMATS, FAST_WPM, PADDED_SHARE, READERS, AnswerCheck, AnswerSources, CheckReport,
                      CheckStatus, Compare, EpisodeView)


class _Checker:
    def __init__(self, output: Path, articles: Path | None, tolerance_ms: float, listen: bool = False):
        self.out = output.resolve()
        self.articles = articles
        self.tol = tolerance_ms
        self.report = CheckReport(output=output, tolerance_ms=tolerance_ms)
        self.decoded: dict[Path, float | Exception] = {}
        self.starts: dict[Path, float | None] = {}
        self.listen = listen
        self.heard: dict = {}  # MP3 -> listen.Heard, with --listen
        self.notes: dict[Path, Path] = {}  # page folder -> its voice note (the spoken disclosure)
        self.cue_timing: dict = {}  # MP3 -> listen.CueTiming of its WebVTT captions, with --listen
        from ..build.output import built_base_url

        self.base_url = built_base_url(self.out)  # where the build said the output is published

    # -- helpers ---------------------------------------------------------------------------------
    def problem(self, file, field_: str, message: str, severity: Severity = Severity.ERROR) -> None:
        self.report.problems.append(Problem(str(file), message, field=field_, severity=severity))

    def rel(self, path: Path) -> str:
        return relative(path, self.out)

    def close(self, a: float | None, b: float | None) -> bool:
        return a is not None and b is not None and abs(a - b) <= self.tol

    def mp3_readings(self, path: Path) -> tuple[float | None, float | None, int | None, object]:
        """Decoded length, MP3 header length, TLEN and the ID3 tag of one file; problems where unreadable."""
        from mutagen import MutagenError
        from mutagen.id3 import ID3
        from mutagen.mp3 import MP3

        name = self.rel(path)
        decoded = header = tlen = None
        tags = None
        result = self.decoded.get(path)
        if isinstance(result, Exception):
            self.problem(name, "audio", f"ffmpeg cannot decode it: {result}")
        else:
            decoded = result
        try:
            header = MP3(path).info.length * 1000
        except (MutagenError, OSError) as e:
            self.problem(name, "MP3 header", f"unreadable: {e}")
        try:
            tags = ID3(path)
            tlen = int(tags["TLEN"].text[0])
        except (MutagenError, OSError, KeyError, ValueError) as e:
            self.problem(name, "TLEN", f"missing or unreadable: {e}")
        return decoded, header, tlen, tags

    # -- the check -------------------------------------------------------------------------------
    def run(self) -> CheckReport:
        if not self.out.is_dir():
            self.problem(self.out, "folder", "missing")
            return self.report
        published = Publication(self.out, self.problem).read()
        sources = self.read_sources()
        notes = {e.mp3.parent: note for e in published.episodes if (note := e.mp3.parent / VOICE_NOTE_FILE).is_file()}
        paths = sorted({e.mp3 for e in published.episodes} | {a.mp3 for a in published.answers if a.mp3 is not None}
                       | set(notes.values()) | {path for _, path, _ in published.trailers})
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            self.decoded = dict(zip(paths, pool.map(self._decode_safely, paths)))
        self.notes = notes
        self.starts = self.answer_starts([a.mp3 for a in published.answers if a.mp3 is not None])
        if self.listen:
            self.listen_to_answers()
            self.time_captions(published)
        pages = {e.slug: self.check_episode(e) for e in published.episodes}
        for where, path, duration in published.trailers:  # the show's voice note, as answers.xml's trailer
            length = self.decoded.get(path)
            if not isinstance(length, float) or not (duration or "").isdigit() or abs(int(duration) * 1000 - length) > 500 + self.tol:
                self.problem(where, "itunes:duration", f"{duration!r} s, but the trailer decodes to {length}")
        for answer in published.answers:
            self.check_answer(answer, pages.get(answer.slug), sources)
        self.check_refused(sources, published)
        return self.report

    def listen_to_answers(self) -> None:
        """``--listen``: every answer heard and held to its own words (:mod:`.listen`)."""
        from .listen import listen

        self.heard, unreliable = listen(self.out, self.out.with_name(f".{self.out.name}.listen"))
        self.report.listened = len(self.heard)
        for engine in sorted(unreliable):
            self.problem(self.rel(self.out), "listening", f"answers spoken by {engine} were not judged: the automatic "
                         "listener misses most of its words whatever the text (word error rate near 0.9), so it "
                         "cannot tell answers apart; listen to them yourself", Severity.WARNING)

    def time_captions(self, published: Publication) -> None:
        """``--listen``: every caption file (WebVTT, SRT, JSON) of each answer heard as its own,
        and of its page's episode, held to where the words are heard (:class:`.listen.CueTiming`)."""
        aligned_by_page: dict[str, list | None] = {}
        for folder, note in self.notes.items():  # the voice note's words open its page's episode
            if (heard := self.heard.get(note.resolve())) is not None:
                aligned_by_page[folder.name] = list(heard.aligned) if heard.verdict == "ok" and heard.aligned else None
        for answer in sorted(published.answers, key=lambda a: (a.slug, a.index)):
            heard = self.heard.get(answer.mp3.resolve()) if answer.mp3 is not None else None
            if heard is not None and heard.verdict == "ok" and not heard.aligned:
                self.problem(self.rel(answer.mp3), "caption timing", "captions not checked: the listener could not "
                             "align its text to its audio", Severity.WARNING)
            if heard is None or heard.verdict != "ok" or not heard.aligned:
                aligned_by_page[answer.slug] = None  # its episode's captions cannot be held to all its words
                continue
            for kind in CAPTION_KINDS:
                timing = self.caption_timing(answer.transcripts.get(kind), kind, heard.aligned)
                if kind == CAPTION_KINDS[0] and timing is not None:
                    self.cue_timing[answer.mp3.resolve()] = timing
            start = self.starts.get(answer.mp3)
            words = aligned_by_page.setdefault(answer.slug, [])
            if words is not None and start is not None:
                words += [(w, a + start / 1000, b + start / 1000) for w, a, b in heard.aligned]
            else:
                aligned_by_page[answer.slug] = None
        for episode in published.episodes:
            words = aligned_by_page.get(episode.slug)
            for kind in CAPTION_KINDS if words else ():
                timing = self.caption_timing(episode.transcripts.get(kind), kind, tuple(words))
                if kind == CAPTION_KINDS[0] and timing is not None:
                    self.report.captions[episode.slug] = timing

    def caption_timing(self, path: Path | None, kind: str, aligned):
        """One caption file held to the words heard; a problem if a cue is more than
        :data:`~.listen.CUE_TOLERANCE` off. None if the file is missing or does not parse
        (reported by :meth:`transcript_ok`)."""
        from .listen import CUE_TOLERANCE, CueTiming, describe_cue

        if path is None:
            return None
        try:
            cues = read_cues(kind, path)
        except Exception:  # noqa: BLE001  (a file that does not parse is reported by transcript_ok)
            return None
        timing = CueTiming.of(cues, aligned)
        if timing.off:
            self.problem(self.rel(path), "caption timing",
                         f"{timing.off_count} of {len(cues)} cues start more than {CUE_TOLERANCE:g} s from where their "
                         f"first words are heard; worst: the cue at {describe_cue(*timing.worst)}")
        return timing

    def answer_starts(self, paths: list[Path]) -> dict[Path, float | None]:
        """Where each answer starts in its page's episode: the voice note's and earlier answers' lengths."""
        from ..names import answer_index

        starts: dict[Path, float | None] = {}
        for folder in {p.parent for p in paths}:
            at: float | None = 0.0
            if (note := self.notes.get(folder)) is not None:  # the spoken disclosure comes first
                length = self.decoded.get(note)
                at = None if isinstance(length, Exception) or length is None else length
            for path in sorted((p for p in paths if p.parent == folder), key=lambda p: answer_index(p) or 0):
                starts[path] = at
                length = self.decoded.get(path)
                at = None if at is None or isinstance(length, Exception) or length is None else at + length
        return starts

    def _decode_safely(self, path: Path):
        try:
            return decoded_ms(path)
        except ValueError as e:
            return e

    def read_sources(self) -> dict[str, object]:
        if self.articles is None or not self.articles.is_dir():
            return {}
        pages = {}
        for path in find_pages(self.articles):
            try:
                page = read_page(path)
            except PageError as e:
                self.problem(path, "source", f"cannot be read ({e.problems[0]}); listed runtimes taken from the tags",
                             Severity.WARNING)
                continue
            pages[page.slug] = page
        return pages

    def check_episode(self, episode: PublishedEpisode) -> EpisodeView:
        """The page episode: its readers agree, its chapters are ordered, spans recorded by title."""
        info, end = self.episode_file(episode.mp3)
        if episode.in_feeds:
            duration = episode.duration
            if duration is None or not duration.strip().isdigit():
                self.problem(episode.where, "itunes:duration", f"missing or not whole seconds: {duration!r}")
            else:
                info.feed_s = int(duration)
                if info.decoded_ms is not None and abs(int(duration) * 1000 - info.decoded_ms) > 500 + self.tol:
                    self.problem(episode.where, "itunes:duration",
                                 f"{duration} s but the episode decodes to {info.decoded_ms / 1000:.3f} s")
        if episode.chapters_json is not None:
            self.json_chapters(episode.chapters_json, info, end, episode.chapters_from)
        if episode.psc is not None:
            info.spans["psc:chapters"] = self.spans(episode.where, "psc:chapters", episode.psc, end,
                                                    stored_order=[r[0] for r in episode.psc])
        self.check_transcripts(episode.transcripts, episode.where, end)
        self.check_voice_note(episode, info)
        return info

    def check_voice_note(self, episode: PublishedEpisode, info: EpisodeView) -> None:
        """The spoken disclosure's chapter opens the episode and lasts its MP3; then come the answers."""
        note = self.notes.get(episode.mp3.parent)
        if note is None:
            return
        length = self.decoded.get(note)
        if isinstance(length, Exception) or length is None:
            self.problem(self.rel(note), "audio", f"ffmpeg cannot decode it: {length}")
            return
        if (h := self.heard.get(note.resolve())) is not None and h.verdict != "ok":
            self.problem(self.rel(note), "listening", f"{h.verdict}: heard {h.heard_share:.0%} of the disclosure's words; "
                         f"word error rate {h.own_wer:.2f}")
        for chapters in CHAPTER_FORMATS:
            if chapters not in info.spans:
                continue
            span = info.spans[chapters].get(VOICE_NOTE_TITLE)
            if span is None:
                self.problem(episode.where, chapters, f"no {VOICE_NOTE_TITLE!r} chapter for {self.rel(note)}")
            elif span[0] != 0 or (chapters != "psc:chapters" and not self.close(span[1], length)):
                self.problem(episode.where, f"{chapters} {VOICE_NOTE_TITLE}",
                             f"chapter at {span[0]} ms for {span[1]} ms, but the voice note starts the episode and "
                             f"decodes to {length:.0f} ms")
        last = max((p for p in self.starts if p.parent == episode.mp3.parent), key=lambda p: self.starts[p] or 0.0, default=None)
        length = self.decoded.get(last) if last is not None else None
        if isinstance(length, float) and info.decoded_ms is not None and self.starts[last] is not None:
            joined = self.starts[last] + length
            if not self.close(joined, info.decoded_ms):
                self.problem(episode.where, "duration", f"the episode decodes to {info.decoded_ms:.0f} ms, but its voice "
                             f"note and answers to {joined:.0f} ms")

    def episode_file(self, path: Path) -> tuple[EpisodeView, float | None]:
        """The episode MP3 itself: its readers agree with its decoding; its CHAP spans by title.
        Returns what was read and where the audio ends."""
        decoded = self.decoded.get(path)
        info = EpisodeView(decoded_ms=None if isinstance(decoded, Exception) else decoded)
        _, header, tlen, tags = self.mp3_readings(path)
        for reader, value in (("MP3 header", header), ("TLEN", tlen)):
            if info.decoded_ms is not None and value is not None and not self.close(info.decoded_ms, value):
                self.problem(self.rel(path), reader, f"{value:.0f} ms but it decodes to {info.decoded_ms:.0f} ms")
        end = info.decoded_ms if info.decoded_ms is not None else header
        if tags is not None:
            chaps = tags.getall("CHAP")
            info.spans["CHAP"] = self.spans(self.rel(path), "CHAP", [(c.start_time, c.end_time, _title(c)) for c in chaps],
                                            end, stored_order=[c.start_time for c in chaps])
        return info, end

    def json_chapters(self, path: Path, info: EpisodeView, end, referrer: str) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_not_json)
            rows = [(seconds_to_ms(c["startTime"], f"startTime {c['startTime']!r}"),
                     seconds_to_ms(c["endTime"], f"endTime {c['endTime']!r}") if "endTime" in c else None, c["title"])
                    for c in doc["chapters"]]
            info.spans["chapters JSON"] = self.spans(self.rel(path), "chapters", rows, end, stored_order=[r[0] for r in rows])
            for c in doc["chapters"]:
                for key in ("url", "img"):
                    if key in c and (why := _unsafe_link(key, c[key], self.base_url)):
                        self.problem(self.rel(path), f"chapters {key}", f"chapter {str(c['title'])[:50]!r}: {why}")
        except FileNotFoundError:
            self.problem(self.rel(path), "file", f"missing (referenced by {referrer})")
        except (ValueError, KeyError, TypeError, OverflowError) as e:
            self.problem(self.rel(path), "chapters", f"not valid JSON chapters: {e}")

    def spans(self, file: str, what: str, rows, end, stored_order) -> dict[str, tuple[int, int]]:
        """Chapter (start, length) by title; problems for out-of-order or overlapping chapters."""
        if stored_order != sorted(stored_order):
            self.problem(file, what, f"chapters out of order: starts {stored_order}")
        rows = sorted(rows, key=lambda r: r[0])
        spans = {}
        for i, (start, stop, title) in enumerate(rows):
            following = rows[i + 1][0] if i + 1 < len(rows) else end
            if stop is None:
                stop = following
            if following is not None and stop is not None and stop > following + 1:
                self.problem(file, what, f"chapter {title[:50]!r} ({start}-{stop} ms) overlaps the next, at {following} ms")
            if stop is not None:
                spans[title] = (start, stop - start)
        return spans

    def check_transcripts(self, files: dict[str, Path], where: str, end_ms: float | None) -> str:
        """Each transcript file parses, its cues are in order and start before the audio ends;
        returns the kinds found valid, e.g. "vtt srt html json"."""
        found = []
        for kind in TRANSCRIPT_KINDS:
            if kind in files and self.transcript_ok(kind, files[kind], where, end_ms):
                found.append(kind)
        return " ".join(found)

    def transcript_ok(self, kind: str, path: Path, where: str, end_ms: float | None) -> bool:
        if not path.is_file():
            self.problem(self.rel(path), "file", f"missing (referenced by {where})")
            return False
        try:
            starts = [start for start, _ in read_cues(kind, path)]
        except Exception as e:  # noqa: BLE001  (any parse failure is a problem to report)
            self.problem(self.rel(path), "transcript", f"does not parse as {kind}: {e}")
            return False
        if starts != sorted(starts):
            self.problem(self.rel(path), "transcript", "cues out of order")
        elif starts and end_ms is not None and starts[-1] * 1000 > end_ms:
            self.problem(self.rel(path), "transcript", f"a cue starts at {starts[-1]:.3f} s, after the audio ends")
        return True

    def check_answer(self, answer: PublishedAnswer, page: EpisodeView | None, sources: dict) -> None:
        """One published answer, with its MP3 and its page's episode."""
        path, where = answer.mp3, answer.where
        row = AnswerCheck(page=answer.slug, index=answer.index, question=answer.question, doctor=answer.doctor,
                          file=self.rel(path) if path else "")
        self.report.answers.append(row)
        found = AnswerSources(title=chapter_title(answer.question, answer.doctor), duration=answer.duration,
                              in_feeds=answer.in_feeds, episode=page)
        if answer.in_feeds and found.feed_seconds() is None:
            self.problem(where, "itunes:duration", f"missing or not whole seconds: {answer.duration!r}")
        if path is not None:
            found.decoded_ms, found.header_ms, found.tlen_ms, found.tags = self.mp3_readings(path)
            self.check_identity(row, answer, found.tags)
            found.heard = self.heard.get(path.resolve())
            found.captions = self.cue_timing.get(path.resolve())
            if found.heard is not None and found.heard.verdict != "ok":
                h = found.heard
                self.problem(row.file, "listening", f"{h.verdict}: heard {h.heard_share:.0%} of its words; word error "
                             f"rate {h.own_wer:.2f} against its own text, {h.closest_wer} against {h.closest}")
        row.readings = {r.field: r.read(found) for r in READERS}
        if path is None:
            row.status = CheckStatus.MISMATCH
            return
        source = sources.get(row.page)
        listed = next((a for a in source.answers if (a.question, a.doctor) == (answer.question, answer.doctor)),
                      None) if source else None
        if listed is not None:
            row.listed_ms = listed.listed_runtime * 1000 if listed.listed_runtime is not None else None
        elif (tagged := found.tag(LISTED_RUNTIME_TAG)) is not None:
            row.listed_ms = parse_runtime(str(tagged)) * 1000
            row.notes.append("listed runtime from the MP3 tag (source page not found)")
        if page is not None:
            self.check_chapter_starts(row, found, self.starts.get(path))
        else:
            self.problem(where, "episode", f"no episode in {FEED_FILE} for this answer's page")
        row.transcripts = self.check_transcripts(answer.transcripts, where, row.readings["decoded_ms"])
        mismatched = self.compare_readers(row, where)
        self.readability(row)
        files = {row.file, where, *(self.rel(p) for p in answer.transcripts.values())}
        if mismatched or any(p.file in files and p.is_error for p in self.report.problems):
            row.status = CheckStatus.MISMATCH
        elif row.notes:
            row.status = CheckStatus.WARNING
        if not answer.in_feeds:
            row.notes.append("beyond max_items: web pages only")

    def check_identity(self, row: AnswerCheck, answer: PublishedAnswer, tags) -> None:
        """The MP3 is the answer its item says: its ID3 title and artist are the item's question and
        doctor. Two answers of equal runtime swapped (lengths and all) agree on every duration."""
        if tags is None:
            return
        said = tuple(str(tags[k].text[0]) if k in tags and tags[k].text else None for k in ("TIT2", "TPE1"))
        if said != (answer.question, answer.doctor):
            self.problem(row.file, "ID3 title/artist",
                         f"the MP3 is {said[0]!r} by {said[1]}, but it is published as {answer.question!r} by "
                         f"{answer.doctor}: it is not this answer's audio")

    def check_chapter_starts(self, row: AnswerCheck, found: AnswerSources, expected: float | None) -> None:
        """The answer's chapter, in every format, starts where its audio starts in the decoded episode."""
        for chapters in CHAPTER_FORMATS:
            if not found.in_feeds and chapters not in found.episode.spans:
                continue  # a page outside the feeds has no psc:chapters (they live in feed.xml)
            span = found.episode.spans.get(chapters, {}).get(found.title)
            if span is None:
                self.problem(f"{row.page}/episode", chapters, f"no chapter titled {found.title[:60]!r}")
            elif expected is not None and not self.close(span[0], expected):
                self.problem(f"{row.page}/episode", f"{chapters} start",
                             f"chapter {found.title[:50]!r} starts at {span[0]} ms, but its answer's audio starts at "
                             f"{expected:.0f} ms of the episode (decoded; tolerance {self.tol:.0f} ms)")

    def compare_readers(self, row: AnswerCheck, where: str) -> bool:
        """Every reader that is compared, against the listed runtime; True if any disagrees."""
        mismatched = False
        reference = row.reference()
        decoded = row.readings["decoded_ms"]
        what = "listed runtime" if row.listed_ms is not None else "decoded duration"
        for reader in READERS:
            value = row.readings[reader.field]
            if value is None:
                continue
            if row.off(reader, self.tol):
                mismatched = True
                self.problem(f"{row.page}/episode" if reader.in_episode else row.file, reader.label,
                             f"{value:.0f} ms, but the {what} is {reference:.0f} ms (tolerance {self.tol:.0f} ms)")
            elif reader.compare is Compare.WHOLE_SECONDS:
                if row.listed_ms is not None and value * 1000 != row.listed_ms:
                    mismatched = True
                    self.problem(where, reader.label, f"{value} s but the page lists {row.listed_ms // 1000} s")
                elif row.listed_ms is None and decoded is not None and abs(value * 1000 - decoded) > 500 + self.tol:
                    mismatched = True  # whole seconds: within rounding of the decoded length
                    self.problem(where, reader.label, f"{value} s but the answer decodes to {decoded / 1000:.3f} s")
        return mismatched

    def readability(self, row: AnswerCheck) -> None:
        rate, silence, decoded = (row.readings[k] for k in ("rate_wpm", "silence_added_s", "decoded_ms"))
        if rate is not None and rate > FAST_WPM:
            row.notes.append(f"fast: {rate} wpm")
            self.problem(row.file, "speaking rate", f"{rate} wpm is faster than {FAST_WPM} wpm", Severity.WARNING)
        if silence is not None and decoded and silence * 1000 > PADDED_SHARE * decoded:
            share = silence * 1000 / decoded
            row.notes.append(f"padded: {share:.0%} silence")
            self.problem(row.file, "silence added",
                         f"{silence:.1f} s is {share:.0%} of the answer (over {PADDED_SHARE:.0%})", Severity.WARNING)

    def check_refused(self, sources: dict, published: Publication) -> None:
        """A source page's answer that is not published: refused at build time (a warning)."""
        done = {(a.question, a.doctor) for a in published.answers}
        for slug, page in sources.items():
            needed = published.refused.get(slug, {})
            for i, a in enumerate(page.answers):
                if (a.question, a.doctor) not in done:
                    rate = needed.get((a.question, a.doctor))
                    figure = f": it needs {rate:.0f} wpm" if rate else ""
                    self.problem(f"{page.source.name}", f"answer {i}",
                                 f"{a.question!r} is not published (refused at build time{figure})", Severity.WARNING)


def check(output: Path, articles: Path | None = None, tolerance_ms: float = TOLERANCE_MS,
          listen: bool = False) -> CheckReport:
    """Check every duration, chapter and transcript in a published output folder."""
    return _Checker(output, articles, tolerance_ms, listen).run()
