"""Timing a command from outside, the one way every benchmark here does it.

:func:`measured` runs the command inside a small Python process of its own, so that the figures
are this command's alone: wall seconds, CPU seconds (user and system) of the command and all its
children, and the peak resident memory of the largest single process among them (``ru_maxrss`` of
the children). ``pin`` holds it to one core.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

_MEASURE = """import json, os, resource, subprocess, sys, time
if os.environ.get("PIN_CORE"):
    os.sched_setaffinity(0, {int(os.environ["PIN_CORE"])})
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr.decode(errors="replace")[-800:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "user": r.ru_utime, "sys": r.ru_stime, "peak": r.ru_maxrss / 1024}))
"""


def measured(cmd: list[str], env: dict[str, str] | None = None, pin: int | None = None) -> dict[str, float]:
    """``{"wall", "user", "sys", "peak"}`` (seconds, seconds, seconds, MB) of one run of ``cmd``;
    SystemExit with its last lines if it fails."""
    env = dict(os.environ if env is None else env, **({"PIN_CORE": str(pin)} if pin is not None else {}))
    done = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} ...: failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """The median with min-max: ``1.20 (1.15-1.24)``."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"
