"""The voice note: the spoken disclosure that opens every page episode, rendered once a build.

It says, in the plain voice, that a synthetic voice reads the doctors' written answers
(:mod:`audiofeed.publish.disclosure`). It is rendered like an answer with no runtime to meet,
taken from the cache when it was rendered before, else on the pool while the pages' answers are.
"""

from __future__ import annotations

from concurrent.futures import Future

from ..audio.answer import Rendered
from ..problems import BuildError
from ..publish.disclosure import disclosure
from ..speech.engine import engine_type
from .rendering import Planner, render_answer
from .scheduling import JobKind


class VoiceNote:
    """The build's voice note: started at once (from the cache, or on the pool), waited for by
    :meth:`result` when the first page is written."""

    def __init__(self, build, planner: Planner):
        options = build.options
        self.build = build
        voice = engine_type(options.engine).palette(options.default_voice)[0]  # the plain voice
        self.job = planner.voice_note_job(disclosure(build.channel, [options.engine], spoken=True), voice)
        audio = build.cached(self.job)
        self.outcome: Rendered | Future = (Rendered(audio, self.job.text, self.job.voice, cached=True) if audio is not None
                                           else build.pool.submit(JobKind.RENDER, self.job))

    def result(self) -> Rendered:
        """The note, rendered; one that cannot be rendered stops the build (nothing is published)."""
        if isinstance(self.outcome, Rendered):
            return self.outcome
        try:
            outcome = self.outcome.result()
        except Exception as e:  # noqa: BLE001  (a worker killed: the note is tried once more, here)
            self.build.stop_if_cluster_lost(e)
            try:
                outcome = render_answer(self.job)
            except Exception as again:  # noqa: BLE001
                raise BuildError(f"could not render the spoken disclosure ({type(again).__name__}: {again}); "
                                 "nothing was published") from None
        if not isinstance(outcome, Rendered):
            raise BuildError(f"could not render the spoken disclosure ({outcome.reason}); nothing was published")
        self.build.cache_put(self.job.render_key(), outcome.audio)
        self.outcome = outcome
        return outcome
