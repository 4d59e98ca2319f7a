"""Builds on a real dask.distributed cluster: a `dask scheduler` and `dask worker` processes on loopback,
started with the commands the README gives, compared byte for byte with a local build."""

from __future__ import annotations

import contextlib
import filecmp
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .conftest import ARTICLES, run_build
from .events import Watch, cache_records

DASK = str(Path(sys.executable).with_name("dask"))
pytest.importorskip("distributed")


class Process:
    """A process whose stderr is drained by a thread; :meth:`wait_for` blocks until a line matches."""

    def __init__(self, args: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd="/")
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, pattern: str, seconds: float = 120) -> re.Match:
        """The first line matching ``pattern``; fails if the process ends or ``seconds`` pass first."""
        with self.changed:
            def found():
                return next((m for line in self.lines if (m := re.search(pattern, line))), None)
            self.changed.wait_for(lambda: found() or self.proc.poll() is not None, timeout=seconds)
            match = found()
        assert match, f"no line {pattern!r} from {self.proc.args[:3]}: {''.join(self.lines)[-2000:]}"
        return match

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def cluster(workers: int = 2, env: dict | None = None):
    """A scheduler and ``workers`` workers (one thread each, no nanny, so a killed worker stays dead)."""
    procs = []
    try:
        scheduler = Process([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"])
        procs.append(scheduler)
        address = scheduler.wait_for(r"Scheduler at:\s+(tcp://\S+)").group(1)
        started = [start_worker(address, f"w{i}", env) for i in range(1, workers + 1)]
        procs += started
        for worker in started:
            worker.wait_for(r"Registered to:")
        yield address, started, scheduler
    finally:
        for p in procs:
            p.stop()


def start_worker(address: str, name: str, env: dict | None = None) -> Process:
    return Process([DASK, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                    "--host", "127.0.0.1"], env=env)


def same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ between two folders, or are in one only (byte for byte)."""
    names = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    names |= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    return sorted(n for n in names if not ((a / n).is_file() and (b / n).is_file()
                                            and filecmp.cmp(a / n, b / n, shallow=False)))


@pytest.fixture(scope="module")
def local_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "output"
    run = run_build(ARTICLES, out, "--cache", str(out.with_name("cache")))
    assert run.code == 0, run.stderr
    return out


def test_a_cluster_build_is_byte_identical_to_a_local_build(tmp_path, local_build):
    """The scheduler comes from `[build] scheduler` in audiofeed.toml, as a producer would set it."""
    articles = tmp_path / "articles"
    shutil.copytree(ARTICLES, articles)
    with cluster() as (address, _workers, _scheduler):
        (tmp_path / "audiofeed.toml").write_text(f'[build]\nscheduler = "{address}"\n')
        run = run_build(articles, tmp_path / "output", "--cache", str(tmp_path / "cache"))
    assert run.code == 0, run.stderr
    assert "14 answer(s) rendered, 0 from the cache" in run.stdout
    assert f"on 2 worker thread(s) of {address}" in " ".join(run.stdout.split()), run.stdout
    assert same_tree(local_build, run.output) == []


def test_a_worker_killed_mid_build_loses_nothing(tmp_path, local_build):
    out, cache = tmp_path / "output", tmp_path / "cache"
    cache.mkdir()
    with cluster() as (address, workers, scheduler), Watch() as watch:
        build = subprocess.Popen([sys.executable, "-m", "audiofeed", "build", str(ARTICLES), "-o", str(out),
                                  "--cache", str(cache), "--scheduler", address],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watch.until(cache_records(cache, watch), build, "the first answer rendered")
        workers[0].proc.send_signal(signal.SIGKILL)  # 13 answers to go, both workers busy
        stdout, stderr = build.communicate(timeout=600)
        killed = workers[0].proc.wait(timeout=30)
        scheduler.wait_for(r"Remove worker .* name: w1")  # the scheduler saw it go, and moved its work
    assert killed == -signal.SIGKILL
    assert build.returncode == 0, stderr
    assert "14 answer(s) rendered" in stdout
    assert same_tree(local_build, out) == []


def test_a_worker_unlike_the_client_is_refused_before_any_work(tmp_path):
    """A worker running other audiofeed code (an edited copy on its PYTHONPATH) is named, with what differs."""
    copy = tmp_path / "other" / "audiofeed"
    shutil.copytree(Path(__file__).resolve().parent.parent / "audiofeed", copy)
    loudness = copy / "audio" / "loudness.py"  # a module of a subpackage: the identity hashes the whole tree
    loudness.write_text(loudness.read_text().replace("TARGET_LUFS = -16.0", "TARGET_LUFS = -19.0"))
    env = {**os.environ, "PYTHONPATH": str(copy.parent)}
    out, cache = tmp_path / "output", tmp_path / "cache"
    with cluster(workers=1) as (address, _workers, _scheduler):
        start_worker(address, "unlike", env).wait_for(r"Registered to:")
        run = run_build(ARTICLES, out, "--cache", str(cache), "--scheduler", address)
    assert run.code == 1
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert re.search(r"dask worker unlike \(tcp://127\.0\.0\.1:\d+\) differs from this machine: "
                     r"audiofeed '0\.1\.0 \(source \w+\)' \(here '0\.1\.0 \(source \w+\)'\)", lines[0]), lines[0]
    assert not out.exists() and not any(cache.rglob("*.json"))  # refused before any work


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    from .server import free_port

    run = run_build(ARTICLES, tmp_path / "output", "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert run.code == 1
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot reach the dask scheduler" in lines[0] and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("address, says", [
    ("not a url", "not a dask scheduler address (expected tcp://HOST:PORT)"),
    ("tls://127.0.0.1:1", "a TLS address, but no TLS certificates are configured for dask"),
])
def test_a_scheduler_address_that_cannot_work_is_one_line_at_once(tmp_path, address, says):
    run = run_build(ARTICLES, tmp_path / "output", "--scheduler", address)
    assert run.code == 1
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in run.stderr, run.stderr
    assert "Exception ignored" not in run.stderr


def test_a_scheduler_killed_mid_build_is_one_line_and_nothing_is_published(tmp_path, local_build):
    out, cache = tmp_path / "output", tmp_path / "cache"
    cache.mkdir()
    shutil.copytree(local_build, out)
    before = sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*"))
    with cluster() as (address, _workers, scheduler), Watch() as watch:
        build = subprocess.Popen([sys.executable, "-m", "audiofeed", "build", str(ARTICLES), "-o", str(out), "--force",
                                  "--cache", str(cache), "--scheduler", address],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watch.until(cache_records(cache, watch), build, "the first answer rendered")
        scheduler.proc.send_signal(signal.SIGKILL)
        _stdout, stderr = build.communicate(timeout=600)
    assert build.returncode == 1, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "the dask cluster went away mid-build" in lines[0] and "Traceback" not in stderr, stderr
    assert sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*")) == before
