"""Output safety: the output folder is only ever replaced whole, by a build that was verified.

- **The real folder.** An output given through a symbolic link (``public -> www/podcast``) is
  built in the folder the link names, and the link stays: the lock, staging and old folders sit
  beside the real folder, so two spellings of one folder share one lock.
- **Lock.** One build at a time per output folder (``.OUTPUT.lock`` beside it).
- **Staging.** A build writes into ``.OUTPUT.staging`` beside the output. Every file is written
  atomically and durably (:mod:`.storage`). Unchanged pages are hard links to the published
  files, so carrying them over costs no copy.
- **Verification.** Before the swap, every MP3 written is read back from its bytes and checked
  against its record (:meth:`Staging.verify`).
- **Swap.** Two renames put the staging folder in place; a build killed between them is
  recovered by the next (:meth:`OutputFolder.recover`). Anything that goes wrong before
  (a full disk, a signal) removes the staging folder and leaves the last output as it was.
- **Manifest.** ``.audiofeed`` in the output holds each page's key, so the next build knows
  which pages it may carry over as they are.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..audio.encoding import audio_part, check_frames, duration_ms
from ..publish.episode import Episode
from ..names import (CHAPTERS_FILE, EPISODE_FILE, EPISODE_STEM, MANIFEST_FILE, RECORD_FILE, TRANSCRIPT_KINDS, answer_stem,
                     page_file)
from ..interrupts import note_published
from ..problems import BuildError, OutputBusy
from ..storage import NotARegularFile, atomic_write, read_regular, sync_folder_of, sync_tree

MANIFEST_FORMAT = 1
RECORD_LIMIT = 16 << 20  # bytes a page's build.json may have


@dataclass
class Manifest:
    """What the last build published: a key per page, the key of the settings that shape pages,
    and the key of those that shape only the feeds (an item limit republishes no page)."""

    settings: str | None = None
    pages: dict[str, str] = field(default_factory=dict)  # slug -> page key
    feeds: str | None = None
    base_url: str | None = None  # where the feeds say the output is published
    podcast_guids: dict[str, str] = field(default_factory=dict)  # feed file -> its podcast:guid, pinned on first publish
    seasons: dict[str, int] = field(default_factory=dict)  # slug -> its answers.xml season, pinned on first publish

    def to_bytes(self) -> bytes:
        doc = {"format": MANIFEST_FORMAT, "settings": self.settings, "pages": self.pages, "feeds": self.feeds,
               "base_url": self.base_url, "podcast_guids": self.podcast_guids, "seasons": self.seasons}
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest at ``path``; an empty one if it is missing, unreadable or of another format."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("pages"), dict):
                return cls()
            guids = data.get("podcast_guids") if isinstance(data.get("podcast_guids"), dict) else {}
            seasons = data.get("seasons") if isinstance(data.get("seasons"), dict) else {}
            return cls(settings=data.get("settings"), pages={str(k): str(v) for k, v in data["pages"].items()},
                       feeds=data.get("feeds"), base_url=data.get("base_url"),
                       podcast_guids={str(k): str(v) for k, v in guids.items()},
                       seasons={str(k): int(v) for k, v in seasons.items() if isinstance(v, int) and v > 0})
        except (OSError, ValueError, AttributeError, TypeError):
            return cls()


def pinned_seasons(last: dict[str, int], slugs) -> dict[str, int]:
    """Each page's season in answers.xml: the one it was first published with, kept whatever pages
    are inserted or removed later (apps file episodes by it); a new page takes the next number.
    Pages published before seasons were pinned keep their numbers in name order.

    >>> pinned_seasons({}, ["b", "a"])
    {'a': 1, 'b': 2}
    >>> pinned_seasons({"a": 1, "b": 2}, ["a", "aa", "b"])  # "aa" inserted: "b" keeps 2
    {'a': 1, 'b': 2, 'aa': 3}
    """
    seasons = dict(last)
    for slug in sorted(slugs):
        if slug not in seasons:
            seasons[slug] = max(seasons.values(), default=0) + 1
    return seasons


def built_base_url(output: Path) -> str | None:
    """The public address the last build of ``output`` published for (None: no build there)."""
    return Manifest.load(output / MANIFEST_FILE).base_url


class OutputFolder:
    """The published output folder, and the lock, staging and old folders beside it."""

    def __init__(self, path: Path):
        self.path = Path(os.path.realpath(path))  # through any symbolic link: publish where it points
        self.staging = self.path.with_name(f".{self.path.name}.staging")
        self.old = self.path.with_name(f".{self.path.name}.old")
        self.lock = self.path.with_name(f".{self.path.name}.lock")

    @contextmanager
    def locked(self) -> Iterator[OutputFolder]:
        """Hold the folder for one build. On any exception (a full disk, a signal) the staging folder
        goes and the last good output stays, even mid-swap; an OSError becomes one line naming the file."""
        from filelock import FileLock, Timeout

        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            blocker = next((p for p in [parent, *parent.parents] if p.exists() and not p.is_dir()), parent)
            raise BuildError(f"{blocker}: is a file, so {self.path} cannot be an output folder") from None
        except OSError as e:
            raise BuildError(f"{parent}: cannot create the folder ({e.strerror or e})") from None
        lock = FileLock(str(self.lock))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise OutputBusy(f"{self.path}: another build is writing this output folder; wait for it to finish "
                             f"(lock: {self.lock})", str(self.lock)) from None
        except OSError as e:
            raise BuildError(f"{self.lock}: cannot create the build's lock ({e.strerror or e}); "
                             f"audiofeed needs to write in {parent}/; nothing was published") from None
        try:
            self.recover()
            self.check()
            yield self
        except BaseException as e:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.recover()
            if isinstance(e, OSError):
                raise BuildError(f"{e.filename or self.path}: {e.strerror or e}; nothing was published, "
                                 f"{self.path}/ is left as it was") from None
            raise
        finally:
            lock.release()

    def check(self) -> None:
        """Refuse a path that is a file, or a folder of someone else's."""
        if self.path.exists() and not self.path.is_dir():
            raise BuildError(f"{self.path}: exists and is not a folder")
        if self.path.is_dir() and any(self.path.iterdir()) and not (self.path / MANIFEST_FILE).exists():
            raise BuildError(f"{self.path}: folder exists, is not empty and was not made by audiofeed; "
                             "choose another output folder or empty it")

    def recover(self) -> None:
        """Finish what a stopped swap left: if a build was killed between its two renames, put the
        last output back; if it was stopped after them, remove the old output it left beside."""
        if self.old.is_dir() and not self.path.exists():
            os.replace(self.old, self.path)
        elif self.old.exists() and self.path.is_dir():
            shutil.rmtree(self.old, ignore_errors=True)

    def manifest(self) -> Manifest:
        return Manifest.load(self.path / MANIFEST_FILE)

    def published(self, slug: str) -> Episode | str | None:
        """The published record of page ``slug``; None if there is none; a reason if it cannot be used.

        A record is only as good as the files it describes: each MP3 it lists must still be there
        with the size it records (a stat, not a read: cheap on a thousand pages), else the page is
        built again rather than carried over.
        """
        try:
            episode = Episode.from_json(read_regular(self.path / slug / RECORD_FILE, RECORD_LIMIT).decode("utf-8"))
        except FileNotFoundError:
            return None
        except NotARegularFile as e:
            return f"unusable record ({e.strerror})"
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as e:
            return f"unreadable record ({type(e).__name__})"
        if episode.slug != slug:
            return f"the record is of page {episode.slug!r}"
        # Exactly the files a build of this page writes, inside its folder, as regular files (a
        # tampered record must not make the feeds link anything else), each MP3 of its recorded size.
        expected = [(episode.file, page_file(slug, EPISODE_FILE), episode.bytes),
                    (episode.chapters_file, page_file(slug, CHAPTERS_FILE), None)]
        expected += [(a.file, page_file(slug, f"{answer_stem(a.index)}.mp3"), a.bytes) for a in episode.answers]
        expected += [(file, page_file(slug, f"{EPISODE_STEM}.{kind}") if kind in TRANSCRIPT_KINDS else None, None)
                     for kind, file in episode.transcripts.items()]
        expected += [(file, page_file(slug, f"{answer_stem(a.index)}.{kind}") if kind in TRANSCRIPT_KINDS else None, None)
                     for a in episode.answers for kind, file in a.transcripts.items()]
        for file, allowed, size in expected:
            if file != allowed:
                return f"the record names {file!r}, which is not a file of this page"
            try:
                info = (self.path / file).lstat()
            except OSError:
                return f"{file} is missing"
            if not stat.S_ISREG(info.st_mode):
                return f"{file} is not a regular file"
            if size is not None and info.st_size != size:
                return f"{file} has {info.st_size} bytes, its record says {size}"
        return episode

    def stage(self) -> Staging:
        """A fresh, empty staging folder."""
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        return Staging(self)


class Staging:
    """The next output, being assembled. Written files are fsynced; names are synced once, at the swap."""

    def __init__(self, folder: OutputFolder):
        self.folder = folder
        self.path = folder.staging

    def write(self, name: str, data: bytes) -> None:
        """Write ``name`` (relative to the output folder) atomically."""
        atomic_write(self.path / name, data, sync_folder=False)  # the tree is synced once, before the swap

    def carry_over(self, slug: str) -> None:
        """Page ``slug`` as published, linked into the staging folder."""
        _link_tree(self.folder.path / slug, self.path / slug)

    def verify(self, episodes: list[Episode]) -> None:
        """Every MP3 this build wrote, read back and checked (:func:`verify`)."""
        verify(self.path, episodes)

    def swap_in(self) -> None:
        """Replace the output by the staging folder with two renames; the old output lives until the second."""
        output, old = self.folder.path, self.folder.old
        sync_tree(self.path)  # every file was fsynced as written; now their names
        if old.exists():
            shutil.rmtree(old)
        if output.exists():
            os.replace(output, old)
        os.replace(self.path, output)
        note_published(str(output))
        try:  # published: what follows only tidies up, and the next build finishes it (recover)
            sync_folder_of(output)
        except OSError:
            pass
        shutil.rmtree(old, ignore_errors=True)


def verify(folder: Path, episodes: list[Episode]) -> None:
    """Read back the MP3s of ``episodes`` under ``folder`` and check them against their records, from the bytes.

    Each file must be its record's size and hold exactly the frames its record's duration says,
    every one a valid frame; an episode must be its voice note's and its answers' frames joined. Raises
    :class:`BuildError` otherwise, so that nothing unverified is swapped in.
    """
    for episode in episodes:
        total = 0
        if episode.voice_note:  # the spoken disclosure opens the episode
            total += _verified_frames(folder / episode.voice_note, episode.voice_note_bytes, episode.voice_note_ms)
        for a in episode.answers:
            total += _verified_frames(folder / a.file, a.bytes, a.duration_ms)
        if duration_ms(total) != episode.duration_ms:
            raise BuildError(f"{folder / episode.file}: its answers hold {total} frames, the record says "
                             f"{episode.duration_ms} ms; refusing to publish")
        _verified_frames(folder / episode.file, episode.bytes, episode.duration_ms)


def _verified_frames(path: Path, size: int, duration: int) -> int:
    data = path.read_bytes()
    try:
        frames = check_frames(audio_part(data))
    except ValueError as e:
        raise BuildError(f"{path}: {e}; refusing to publish") from None
    if len(data) != size or duration_ms(frames) != duration:
        raise BuildError(f"{path}: {len(data)} bytes and {duration_ms(frames)} ms, but its record says {size} bytes "
                         f"and {duration} ms; refusing to publish")
    return frames


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _link_tree(src: Path | str, dst: Path | str) -> None:
    """``dst`` as a copy of ``src`` made of hard links (copies where links are refused)."""
    os.mkdir(dst)
    for entry in os.scandir(src):  # plain strings: this runs for every file of every unchanged page
        target = os.path.join(dst, entry.name)
        if entry.is_dir(follow_symlinks=False):
            _link_tree(entry.path, target)
        else:
            _link_or_copy(entry.path, target)
