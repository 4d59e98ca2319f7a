"""Run `audiofeed serve` on a free loopback port for the duration of a test."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(output: Path, *args: str, env: dict | None = None):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "audiofeed", "serve", str(output), "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        # `serve` prints what it serves, ending with "Press Ctrl-C to stop.", once it listens: those
        # lines are the event waited for (kept as proc.banner). A watchdog only bounds a hang.
        watchdog = threading.Timer(120, proc.kill)
        watchdog.start()
        banner = []
        try:
            for line in proc.stdout:
                banner.append(line)
                if line.startswith("Press Ctrl-C"):
                    break
        finally:
            watchdog.cancel()
        if not banner or not banner[-1].startswith("Press Ctrl-C"):
            raise RuntimeError(f"server did not start: {''.join(banner)}{proc.stderr.read() if proc.poll() is not None else ''}")
        proc.banner = "".join(banner)
        urllib.request.urlopen(url, timeout=30).read()
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
