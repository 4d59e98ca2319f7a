"""Rendering on a dask.distributed cluster: the same jobs, run by the cluster's workers.

``audiofeed build --scheduler tcp://HOST:PORT`` connects to a running ``dask scheduler``. The
answers are rendered by its workers. Reading, the cache, publishing and the output folder stay
with the build (the client). Results come back as the same :class:`~audiofeed.audio.answer.Rendered`
a local worker returns, so the output is byte-identical to a local build.

Rendering is reproducible only if every worker speaks and encodes exactly as the client would.
So before any work, each worker's :func:`identity` (audiofeed's version and source, espeak-ng
and its voice data, the encoder and the audio libraries) is compared with the client's, and a
worker that differs is refused by name. Every job also carries the client's identity and checks
it on the worker that runs it, which covers workers that join later.

A worker that dies mid-build loses nothing: the scheduler runs its jobs on another worker.
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import cache
from importlib import resources
from pathlib import Path

from ..problems import BuildError
from .scheduling import Pool

CONNECT_TIMEOUT = 10  # seconds to reach the scheduler
WORKERS_TIMEOUT = 60  # seconds to wait for a first worker to join


_ADDRESS = re.compile(r"^(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?(?P<host>\[[0-9a-fA-F:]+\]|[\w.-]+):(?P<port>\d{1,5})/?$")


def check_address(address: str) -> None:
    """Refuse, at once, what no dask scheduler can be: not ``[tcp|tls|ws|wss|ucx://]HOST:PORT``,
    or a TLS address with no TLS configured (dask would try for 20 s, then fail obscurely).

    >>> check_address("tcp://10.0.0.5:8786"), check_address("10.0.0.5:8786")
    (None, None)
    >>> check_address("not a url")
    Traceback (most recent call last):
    ...
    audiofeed.problems.BuildError: --scheduler 'not a url': not a dask scheduler address (expected tcp://HOST:PORT)
    """
    m = _ADDRESS.match(address.strip())
    if not m or not 0 < int(m["port"]) < 65536:
        raise BuildError(f"--scheduler {address!r}: not a dask scheduler address (expected tcp://HOST:PORT)")
    if m["scheme"] in ("tls", "wss"):
        import dask

        if not (dask.config.get("distributed.comm.tls.client.cert", None) or dask.config.get("distributed.comm.tls.ca-file", None)):
            raise BuildError(f"{address}: a TLS address, but no TLS certificates are configured for dask "
                             "(distributed.comm.tls in dask's configuration); use tcp:// or configure them")


class WorkerMismatch(RuntimeError):
    """A worker whose engine, data or code differs from the client's: its audio would not match."""


@cache
def source_digest() -> str:
    """A short hash of audiofeed's own code and data: two checkouts of one version can differ."""
    h = hashlib.sha256()
    root = Path(resources.files("audiofeed"))
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".json") and "__pycache__" not in p.parts):
        name = path.relative_to(root).as_posix()
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


@cache
def identity(engine: str) -> dict[str, str]:
    """What this process's audio with speech engine ``engine`` depends on, by name; equal on client
    and workers, or no build."""
    from .. import __version__
    from ..speech.engine import package_version
    from .cache import engine_versions

    return {
        "audiofeed": f"{__version__} (source {source_digest()})",
        "engine_name": engine,
        **engine_versions(engine),  # what the cache key holds: engine, its data, encoder, pipeline
        "soxr": package_version("soxr"),
        "pyebur128": package_version("pyebur128"),
    }


def differences(theirs: dict[str, str], mine: dict[str, str]) -> list[str]:
    """What differs, in words: ``espeak_data 'x' (here 'y')``.

    >>> differences({"soxr": "1.0", "numpy": "2"}, {"soxr": "0.5", "numpy": "2"})
    ["soxr '1.0' (here '0.5')"]
    """
    return [f"{k} {theirs.get(k, 'missing')!r} (here {v!r})" for k, v in mine.items() if theirs.get(k) != v]


def check_identity(expected: dict[str, str]) -> None:
    """On a worker, before a job: refuse to render if this process is not the client's twin."""
    found = differences(identity(expected["engine_name"]), expected)
    if found:
        raise WorkerMismatch(f"this worker differs from the client: {'; '.join(found)}")


class ClusterPool(Pool):
    """A :class:`Pool` on a dask.distributed cluster: its width is the cluster's worker threads."""

    def __init__(self, address: str, engine: str):
        try:
            from distributed import Client
        except ImportError:
            raise BuildError(f"--scheduler {address}: dask.distributed is not installed; "
                             "pip install 'audiofeed[dask]'") from None
        check_address(address)
        # dask logs its connection troubles itself; the build says what went wrong in one line
        for name in [n for n in logging.root.manager.loggerDict if n.split(".")[0] in ("distributed", "tornado")] + ["distributed"]:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as e:
            raise BuildError(f"{address}: cannot reach the dask scheduler ({type(e).__name__}: {e}); "
                             "start one with 'dask scheduler', or check the address") from None
        try:
            self.address, self.engine = address, engine
            self.expected = identity(engine)
            self.threads = self._check_workers()
        except BaseException:
            self.client.close()
            raise
        super().__init__(self.client.get_executor(pure=False), self.threads)
        self.own = True

    def _check_workers(self) -> int:
        """Wait for a worker, compare every worker's identity with ours; the total worker threads."""
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except TimeoutError:
            raise BuildError(f"{self.address}: no dask worker joined within {WORKERS_TIMEOUT} s; "
                             f"start workers with 'dask worker {self.address}'") from None
        names = {addr: info.get("name", addr) for addr, info in self.client.scheduler_info()["workers"].items()}
        for worker, theirs in sorted(self.client.run(identity, self.engine, on_error="return").items()):
            who = f"dask worker {names.get(worker, worker)} ({worker})"
            if isinstance(theirs, BaseException):
                raise BuildError(f"{who} cannot run audiofeed ({type(theirs).__name__}: {theirs}); "
                                 "install the same audiofeed on every worker")
            found = differences(theirs, self.expected)
            if found:
                raise BuildError(f"{who} differs from this machine: {'; '.join(found)}; refusing to build "
                                 "(its audio would not match): install the same versions on every worker")
        return sum(self.client.nthreads().values())

    def submit(self, kind, payload):
        return self.executor.submit(_run_checked, kind, payload, self.expected)

    def describe(self) -> str:
        return f"{self.threads} worker thread(s) of {self.address}"

    def lost(self, error: BaseException) -> str | None:
        """What to say if ``error`` means the cluster went away mid-build (None if it does not)."""
        from concurrent.futures import CancelledError

        kind = type(error)
        if isinstance(error, CancelledError) or kind.__module__.split(".")[0] in ("distributed", "tornado"):
            return (f"{self.address}: the dask cluster went away mid-build ({kind.__name__}); nothing was published, "
                    "the last output is as it was")
        return None

    def close(self, abort: bool = False) -> None:
        self.executor.shutdown(wait=False)  # cancels what is still queued (an interrupted build)
        try:
            self.client.close(timeout=CONNECT_TIMEOUT)
        except Exception:  # a scheduler already gone: nothing left to close
            pass


def _run_checked(kind, payload, expected: dict[str, str]):
    """A job as a cluster worker runs it: identity checked first (:func:`check_identity`)."""
    from .scheduling import run_job

    check_identity(expected)
    return run_job(kind, payload)
