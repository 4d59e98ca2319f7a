"""The build: ``articles/`` in, ``output/`` out, in four steps: read, plan, schedule, publish.

- **Read** (:mod:`audiofeed.read`) every page; a page that cannot be read is reported and keeps its
  last published episode.
- **Plan** what each page needs. Each page has a key: a hash of its source and of every input
  that shapes its episode (settings, voices, engine, templates). A page whose key matches the
  last build's is carried over as it is, with nothing re-rendered.
- **Schedule** (:mod:`.scheduling`) the changed pages' answers. Each is planned
  (:mod:`.rendering`), taken from the content-addressed cache (:mod:`.cache`) when it was
  rendered before, else spoken, fitted, levelled and encoded by a worker, through the
  ``concurrent.futures.Executor`` interface only. Each page is written (:mod:`audiofeed.publish.episode`,
  :mod:`audiofeed.publish.site`) as soon as its answers are in, so memory does not grow with the number of pages.
- **Publish** the feeds (:mod:`audiofeed.publish.feeds`) and the index into the staging folder, verify every
  MP3 written from its bytes, and swap it in whole (:mod:`.output`). An interrupted build leaves
  the last good output as it was.

The core never prints. It reports progress through a callback and returns a
:class:`BuildReport`.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__
from .cache import AudioCache, digest, engine_fingerprint, key
from ..channel import Channel
from ..defaults import RATE_BAND
from ..audio.encoding import BITRATE_KBPS
from ..audio.answer import AnswerAudio, Failed, Refused, Rendered
from ..publish.disclosure import disclosure
from ..publish.episode import Episode, make_episode
from ..channel import claim_warnings, disclosure_warnings, show_guids
from ..publish.cover import cover_key, page_arts
from ..names import ANSWERS_FILE, COVER_FILE, EMBED_FILE, FEED_FILE, INDEX_FILE, MANIFEST_FILE, RECORD_FILE
from ..speech.verbalize import RULES_VERSION
from .output import Manifest, OutputFolder, Staging, pinned_seasons
from ..speech.pacing import VoiceModel, shipped_models
from ..interrupts import raise_pending
from ..problems import BuildError, error, warning
from ..read import Page, slug_for
from ..read.pages import format_runtime
from .identity import read_pages
from .rendering import CalibrationJob, Planner
from .voice_note import VoiceNote
from .report import AnswerReport, AnswerStatus, BuildReport, _row, _status
from .scheduling import POOL_RESTARTS, WORKER_DIED, Finished, JobKind, PageProgress, Pool, schedule
from ..publish.site import assets as site_assets
from ..publish.site import fingerprint as site_fingerprint
from ..speech.lexicon import Lexicon
from ..speech.engine import default_engine, engine_type
from ..speech.voices import assign_voices, shared_neighbours

__all__ = ["BuildError", "BuildOptions", "BuildReport", "AnswerReport", "AnswerStatus", "build"]


@dataclass(frozen=True)
class BuildOptions:
    articles: Path = Path("articles")
    output: Path = Path("output")
    channel: Channel = Channel()
    workers: int = 0  # processes rendering at once (-j); 0: one per core
    band: tuple[int, int] = RATE_BAND
    force: bool = False  # render everything again, ignoring the last build and the cache
    cache: Path | None = None  # None: .audiofeed-cache beside the output folder
    lexicon: tuple[tuple[str, str], ...] = ()  # pronunciations, for speech only
    normalize: bool = True  # say health text as a clinician would (units, ranges, fractions...; speech/verbalize.py)
    pinned_voices: tuple[tuple[str, str], ...] = ()  # doctor -> espeak-ng voice
    people_images: tuple[tuple[str, str], ...] = ()  # doctor -> image URL ([people] images)
    default_voice: str | None = None  # accent the palette draws from, e.g. gmw/en-gb-x-rp
    cover: Path | None = None  # show art; None: audiofeed's own
    scheduler: str | None = None  # a dask.distributed scheduler's address: render on its workers
    engine: str = field(default_factory=default_engine)  # the speech engine, by its name in speech.engine.ENGINES
    kbps: int = BITRATE_KBPS  # the MP3s' bit rate (audio.encoding.BITRATES_KBPS)


Progress = Callable[[int, int, str], None]
# Bump when what a page's files hold changes for the same inputs (3: ID3v2.3 dates as TYER/TDAT,
# a title, links and images in the chapters JSON, <cite> speakers in HTML transcripts, answer anchors in the player).
PAGE_FORMAT = 4
FEED_ONLY = {"max_items", "answers_description", "podcast_guid", "new_feed_url", "enclosure_prefix", "verify", "apple_verify",
             "update_frequency", "license", "funding_url", "funding_text"}  # channel settings that shape the feeds and nothing else


@dataclass
class BuildPlan:
    """What the build does with each page, decided before anything is rendered."""

    manifest: Manifest  # the one this build will publish
    changed: list[Page] = field(default_factory=list)  # rendered (from the cache where it can)
    unchanged: dict[str, Episode] = field(default_factory=dict)  # slug -> record: carried over as they are
    kept: dict[str, Episode] = field(default_factory=dict)  # pages that failed to read: their last episode stays
    removed: list[str] = field(default_factory=list)  # published before, gone from the articles
    nothing_changed: bool = False  # the output is already this build


def build(options: BuildOptions, progress: Progress | None = None, executor: Executor | None = None) -> BuildReport:
    """Build every page under ``options.articles`` into ``options.output``.

    Returns a report with one row per answer and one problem per thing wrong. Pages with errors
    are not built (their last published episode, if any, is kept); the others are.
    """
    if not options.articles.is_dir():
        raise BuildError(f"{options.articles}: no such folder of articles")
    if options.cache is not None and _inside(options.cache, options.output):
        raise BuildError(f"{options.cache}: the cache is inside the output folder {options.output}/, which every "
                         "build replaces whole; put it beside (the default: .audiofeed-cache beside the output)")
    with OutputFolder(options.output).locked() as output:
        return _Build(options, output, progress, executor).run()


class _Build:
    def __init__(self, options: BuildOptions, output: OutputFolder, progress: Progress | None,
                 executor: Executor | None):
        self.options = options
        self.channel = options.channel
        self.output = output
        self.progress = progress
        self.started = time.perf_counter()
        self.report = BuildReport(output=options.output)
        self.report.problems.extend(warning(options.output / FEED_FILE, message)
                                    for message in (*disclosure_warnings(self.channel), *claim_warnings(self.channel)))
        self.cache = AudioCache(options.cache or options.output.with_name(".audiofeed-cache"))
        self._covers: tuple[bytes, bytes] | None = None
        self.built_episodes: list[Episode] = []  # written by this build: verified before the swap
        self.cache_disabled = False
        if options.scheduler and executor is None:
            from .cluster import ClusterPool  # dask: imported only for a cluster build

            self.pool = ClusterPool(options.scheduler, options.engine)  # refuses unreachable schedulers and unlike workers
        else:
            self.pool = Pool(executor, options.workers)
        self.report.rendered_on = self.pool.describe()

    def run(self) -> BuildReport:
        try:
            pages, digests, failed = self.read()
            plan = self.plan(pages, digests, failed)
            if plan.nothing_changed:
                self.report.nothing_changed = True  # nothing to write
                self.pool.close()
                return self.finish()
            staging = self.output.stage()
            episodes = self.schedule(plan, staging)
            self.publish(plan, staging, episodes)
        except BaseException as e:
            self.pool.close(abort=True)  # a stop or a failure: the workers end now, not when their answers are done
            if isinstance(e, Exception):
                self.stop_if_cluster_lost(e)
            raise
        self.pool.close()
        return self.finish()

    def stop_if_cluster_lost(self, error: BaseException) -> None:
        """A cluster gone mid-build (raised, or a job's result) stops the build in one line, publishing nothing."""
        lost = getattr(self.pool, "lost", None)
        if lost is not None and (why := lost(error)):
            raise BuildError(why) from None

    # -- read -----------------------------------------------------------------------------------
    def read(self) -> tuple[list[Page], dict[str, str], list[Path]]:
        """Every page read and its identity validated before any work (:mod:`.identity`)."""
        found = read_pages(self.options.articles, self.last_published)
        self.report.problems.extend(found.problems)
        return found.pages, found.digests, found.failed

    # -- plan -----------------------------------------------------------------------------------
    def settings_key(self) -> str:
        """A hash of every input beside the pages themselves that shapes the pages' files."""
        o = self.options
        channel = {k: v for k, v in asdict(self.channel).items() if k not in FEED_ONLY}
        speech = [o.normalize, RULES_VERSION if o.normalize else None]
        return digest([__version__, PAGE_FORMAT, engine_fingerprint(o.engine), channel, list(o.band), list(o.lexicon), speech,
                       *([o.kbps] if o.kbps != BITRATE_KBPS else []),
                       o.default_voice, cover_key(o.cover, self.channel.title), site_fingerprint(),
                       *([list(o.people_images)] if o.people_images else [])])

    def covers(self) -> tuple[bytes, bytes]:
        """The feed's cover and the copy in each MP3, made when first needed (:func:`~..publish.cover.covers`)."""
        if self._covers is None:
            from ..publish.cover import covers

            self._covers = covers(self.options.cover, self.channel.title)
        return self._covers

    def feeds_key(self) -> str:
        """A hash of the settings that shape only the feeds."""
        return digest({k: v for k, v in asdict(self.channel).items() if k in FEED_ONLY})

    def plan(self, pages: list[Page], digests: dict[str, str], failed: list[Path]) -> BuildPlan:
        o, report = self.options, self.report
        order = [[a.doctor for a in p.answers] for p in pages]
        self.voices = assign_voices(order, dict(o.pinned_voices), o.default_voice, o.engine)
        palette = set(engine_type(o.engine).palette(o.default_voice))
        for doctor, voice in o.pinned_voices:
            if voice not in palette:
                report.problems.append(warning(o.articles, f"voices.doctors: {doctor!r} is given {voice!r}, which is not in "
                                                           "the palette (it sounds less natural: docs/voices.md)"))
        if shared := shared_neighbours(order, self.voices):  # one voice a doctor, too few voices for these pages
            a, b = shared[0]
            report.problems.append(warning(o.articles, f"{len(shared)} pair(s) of doctors answer one after the other in one "
                                           f"voice, such as {a} and {b} ({self.voices[a]}): the palette has {len(palette)} "
                                           "voices and each doctor keeps one; pin voices in [voices.doctors]"))
        settings = self.settings_key()
        keys = {p.slug: digest([settings, digests[p.slug],
                                {d: self.voices[d] for d in p.doctors}]) for p in pages}
        last = Manifest() if o.force else self.output.manifest()
        plan = BuildPlan(manifest=Manifest(settings=settings, feeds=self.feeds_key(), base_url=self.channel.base_url,
                                           podcast_guids=show_guids(self.channel, self.output.manifest().podcast_guids)))
        for page in pages:
            record = self.output.published(page.slug) if last.pages.get(page.slug) == keys[page.slug] else None
            if isinstance(record, Episode):
                plan.unchanged[page.slug] = record
                for r in record.refused:  # still refused: an unchanged page does not make it right
                    answer = page.answers[r.index] if r.index < len(page.answers) else None
                    report.problems.append(error(page.source, f"refused {r.question!r}: still "
                                                 + (f"needs {r.needed_rate:.0f} wpm (listed {format_runtime(r.listed_runtime)})"
                                                    if r.needed_rate else "too long to say")
                                                 + "; not published",
                                                 answer.line if answer else None))
                continue
            if record is not None:
                report.problems.append(warning(self.output.path / page.slug / RECORD_FILE,
                                               f"{record}; building the page again"))
            plan.changed.append(page)
        failed_slugs = {slug_for(path): path for path in failed}
        for slug, path in failed_slugs.items():
            if isinstance(record := self.output.published(slug), Episode):
                plan.kept[slug] = record
                report.problems.append(warning(path, "not rebuilt; its last published episode stays in the feeds "
                                                     "until it is fixed"))
        plan.removed = [s for s in last.pages if s not in keys and s not in failed_slugs]
        plan.manifest.pages = {**{s: last.pages[s] for s in plan.kept if s in last.pages}, **keys}
        plan.manifest.seasons = pinned_seasons(self.output.manifest().seasons, plan.manifest.pages)
        plan.nothing_changed = (not plan.changed and not plan.removed and last.settings == settings
                                and last.feeds == plan.manifest.feeds
                                and last.podcast_guids == plan.manifest.podcast_guids
                                and last.seasons == plan.manifest.seasons
                                and list(plan.kept) == [s for s in failed_slugs if s in last.pages])
        report.pages_unchanged, report.pages_removed = len(plan.unchanged), len(plan.removed)
        return plan

    def voice_models(self, pages: list[Page]) -> dict[str, VoiceModel]:
        """Every voice's pacing model: shipped, from the cache, or measured now (in parallel) and cached."""
        models, missing = {}, []
        engine = self.options.engine
        shipped = shipped_models(engine)  # measured on this very engine (checked by its fingerprint)
        for voice in sorted({self.voices[d] for p in pages for d in p.doctors}):
            if voice in shipped:
                models[voice] = shipped[voice]
                continue
            data = None if self.options.force else self.cache.get_json(key("voice-model", engine, voice=voice))
            try:
                models[voice] = VoiceModel.from_json(voice, data)
            except (TypeError, KeyError, ValueError):
                missing.append(voice)
        for voice, data in self.calibrate(missing).items():
            self.cache_put(key("voice-model", engine, voice=voice), data, json_value=True)
            models[voice] = VoiceModel.from_json(voice, data)
        self.report.voices_calibrated = len(missing)
        return models

    def calibrate(self, voices: list[str]) -> dict[str, dict]:
        """Measure ``voices`` on the pool, starting it again if a worker dies (as rendering does)."""
        results: dict[str, dict] = {}
        for attempt in range(POOL_RESTARTS + 1):
            futures = {voice: self.pool.submit(JobKind.CALIBRATE, CalibrationJob(voice, self.options.engine))
                       for voice in voices if voice not in results}
            broken = None
            for voice, future in futures.items():
                try:
                    results[voice] = future.result()
                except Exception as e:  # noqa: BLE001  (a worker killed, a voice that will not speak)
                    self.stop_if_cluster_lost(e)
                    if not self.pool.broken(e):
                        raise BuildError(f"{voice}: could not measure this voice's pace ({type(e).__name__}: {e}); "
                                         "nothing was published") from None
                    broken = e
            if broken is None:
                return results
            self.pool.restart()
        raise BuildError(f"could not measure the pace of {', '.join(v for v in voices if v not in results)}: "
                         f"{WORKER_DIED}; nothing was published")

    # -- schedule -------------------------------------------------------------------------------
    def schedule(self, plan: BuildPlan, staging: Staging) -> list[Episode]:
        """Render the changed pages, writing each as soon as it is complete, and carry over the others.

        Returns every episode the feeds will list.
        """
        episodes: list[Episode] = []

        def carry_over() -> None:
            """Unchanged and kept pages into the staging folder, as links. Runs while the workers
            render (the order of episodes does not matter: the feeds and pages sort them)."""
            self.covers()  # drawn here, while the workers start and render, not on the critical path
            for slug, record in (*plan.unchanged.items(), *plan.kept.items()):
                staging.carry_over(slug)
                episodes.append(record)
            self.report.pages_kept += len(plan.kept)

        planner = Planner(self.voices, Lexicon(dict(self.options.lexicon)), self.options.band,
                          self.voice_models(plan.changed), normalize=self.options.normalize, engine=self.options.engine,
                          kbps=self.options.kbps)
        total = sum(len(p.answers) for p in plan.changed)
        self.note = VoiceNote(self, planner) if plan.changed and self.channel.disclose else None

        def ready_made(job) -> Refused | Rendered | None:
            if (refused := planner.too_long(job)) is not None:
                return refused
            audio = self.cached(job)
            return None if audio is None else Rendered(audio, job.text, job.voice, cached=True)

        for done, finished in enumerate(schedule(self.pool, plan.changed, planner.jobs, ready_made,
                                                 meanwhile=carry_over), start=1):
            self.collect(finished)
            if self.progress:
                self.progress(done, total, finished.progress.page.title)
            if finished.progress.complete:
                if (episode := self.write_page(finished.progress, staging, plan)) is not None:
                    episodes.append(episode)
        return episodes

    def cached(self, job) -> AnswerAudio | None:
        return None if self.options.force else self.cache.get(job.render_key())

    def collect(self, finished: Finished) -> None:
        """An answer done: its row in the report, and, if rendered now, its place in the cache."""
        page, job, outcome = finished.progress.page, finished.job, finished.outcome
        answer = page.answers[job.index]
        match outcome:
            case Refused(reason=reason, needed_rate=needed):
                self.report.problems.append(error(
                    page.source, f"refused {answer.question!r}: {reason}"
                                 + (f" (listed {format_runtime(answer.listed_runtime)})" if answer.listed_runtime else ""),
                    answer.line))
                self.report.answers.append(_row(page, job.index, None, AnswerStatus.REFUSED,
                                                f"needs {needed:.0f} wpm" if needed else "too long"))
            case Failed(reason=reason):
                if finished.error is not None:
                    self.stop_if_cluster_lost(finished.error)
                self.report.problems.append(error(page.source, f"could not render {answer.question!r}: {reason}",
                                                  answer.line))
                self.report.answers.append(_row(page, job.index, None, AnswerStatus.FAILED, reason))
            case Rendered(audio=audio, cached=cached):
                if cached:
                    self.report.answers_cached += 1
                else:
                    self.report.answers_rendered += 1
                    self.report.second_passes += audio.passes > 1
                    self.cache_put(job.render_key(), audio)
                self.report.answers.append(_row(page, job.index, audio, *_status(audio, answer, self.options.band)))

    def cache_put(self, k: str, value, json_value: bool = False) -> None:
        """Store in the cache; a cache that cannot be written (read-only, shared) only warns, once."""
        if self.cache_disabled:
            return
        try:
            (self.cache.put_json if json_value else self.cache.put)(k, value)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise  # a full disk stops the build: the output could not be written either
            self.cache_disabled = True
            self.report.problems.append(warning(e.filename or self.cache.folder, f"cannot write to the cache "
                                                f"({e.strerror}); this build goes on without storing answers"))

    def last_published(self, slug: str) -> Episode | None:
        """The page as the output holds it now, if its record is sound: what its GUIDs were."""
        record = self.output.published(slug)
        return record if isinstance(record, Episode) else None

    def write_page(self, progress: PageProgress, staging: Staging, plan: BuildPlan) -> Episode | None:
        """A complete page's files: tagged MP3s, chapters, transcripts, record and player page.

        A page with an answer that failed to render, or with no answer that could be published,
        is not written: its last published episode stays (returned), or it stays unpublished (None).
        """
        from ..publish.site import render_embed, render_page

        page, channel = progress.page, self.channel
        rendered = sum(isinstance(o, Rendered) for o in progress.outcomes.values())
        if progress.failed or not rendered:
            return self.keep_last(page, plan, staging, "an answer failed to render" if progress.failed
                                  else "none of its answers could be published")
        made = make_episode(page, progress.outcomes, album=channel.title, publisher=channel.author,
                            cover=self.covers()[1], base_url=channel.url(""), language=channel.language,
                            engine=self.options.engine, previous=self.last_published(page.slug),
                            said=disclosure(channel, [self.options.engine]),
                            voice_note=self.note.result() if self.note else None,
                            art=page_arts(self.covers()[0], page.title, page.image.read_bytes() if page.image else None),
                            images=dict(self.options.people_images))
        for name, data in made.files.items():
            staging.write(name, data)
        staging.write(f"{page.slug}/{INDEX_FILE}", render_page(channel, made.episode, made.sections).encode())
        staging.write(f"{page.slug}/{EMBED_FILE}", render_embed(channel, made.episode).encode())
        self.built_episodes.append(made.episode)
        self.report.pages_built += 1
        return made.episode

    def keep_last(self, page: Page, plan: BuildPlan, staging: Staging, why: str) -> Episode | None:
        """``page`` is not published by this build: its last published episode stays, with the
        manifest's key of that episode (so the next build tries the page again)."""
        last = self.output.manifest().pages.get(page.slug)
        if (record := self.last_published(page.slug)) is not None and last is not None:
            staging.carry_over(page.slug)
            plan.manifest.pages[page.slug] = last
            self.report.pages_kept += 1
            self.report.problems.append(error(page.source, f"not published: {why}; its last published episode stays"))
            return record
        plan.manifest.pages.pop(page.slug, None)
        self.report.problems.append(error(page.source, f"not published: {why}"))
        return None

    # -- publish --------------------------------------------------------------------------------
    def publish(self, plan: BuildPlan, staging: Staging, episodes: list[Episode]) -> None:
        """The show's files, the manifest and the feeds (last: they reference everything else);
        then every MP3 written is verified from its bytes and the staging folder swapped in."""
        from ..publish.feeds import answers_feed, episodes_feed  # feedgen and lxml: needed only from here on
        from ..publish.site import render_index

        staging.write(COVER_FILE, self.covers()[0])
        for name, data in site_assets().items():
            staging.write(name, data)
        staging.write(INDEX_FILE, render_index(self.channel, episodes).encode())
        staging.write(MANIFEST_FILE, plan.manifest.to_bytes())
        images = dict(self.options.people_images)
        staging.write(ANSWERS_FILE, answers_feed(self.channel, episodes, plan.manifest.podcast_guids, plan.manifest.seasons,
                                                 images))
        staging.write(FEED_FILE, episodes_feed(self.channel, episodes, plan.manifest.podcast_guids, images))
        staging.verify(self.built_episodes)
        raise_pending()  # a stop asked for whose exception was lost must not publish
        staging.swap_in()

    def finish(self) -> BuildReport:
        self.report.problems.extend(self.cache.warnings)
        self.report.answers.sort(key=lambda r: (r.source, r.index))
        self.report.seconds = time.perf_counter() - self.started
        return self.report


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (links resolved)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents
