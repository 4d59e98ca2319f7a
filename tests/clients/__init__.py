"""The podcast clients the tests read feeds with, as apps use them.

gPodder's ``podcastparser`` and ``feedparser`` come from PyPI (the ``test`` extra);
``podcast-partytime`` (Podverse's parser, the reference for the Podcasting 2.0 namespace) comes
from the npm registry: it is installed once into the user's cache (``$AUDIOFEED_TEST_NPM`` to put
it elsewhere) by the ``npm`` that ships with Node.js, which ``.ci/run`` installs where missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

PARTYTIME = "podcast-partytime@5.0.0"
HERE = Path(__file__).resolve().parent


def npm_root() -> Path:
    """Where the npm packages the tests use are installed."""
    if os.environ.get("AUDIOFEED_TEST_NPM"):
        return Path(os.environ["AUDIOFEED_TEST_NPM"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "audiofeed-tests" / "npm"


def partytime_ready() -> Path:
    """The ``node_modules`` holding podcast-partytime, installed on first use. Raises
    RuntimeError (with npm's last line) when Node.js or the npm registry is missing."""
    root = npm_root() / PARTYTIME.replace("@", "-")
    modules = root / "node_modules"
    if (modules / "podcast-partytime" / "package.json").is_file():
        return modules
    if not (shutil.which("node") and shutil.which("npm")):
        raise RuntimeError("Node.js and npm are needed to read feeds as Podverse does (apt-get install nodejs npm)")
    root.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "install", "--prefix", str(root), "--no-audit", "--no-fund", "--silent", PARTYTIME],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not (modules / "podcast-partytime").is_dir():
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"npm could not install {PARTYTIME}: {tail}")
    return modules


def partytime(feed: Path) -> dict:
    """``feed`` as podcast-partytime shows it (its ``parseFeed``)."""
    env = dict(os.environ, NODE_PATH=str(partytime_ready()), PARTYTIME_LOG="silent")
    done = subprocess.run(["node", str(HERE / "partytime.js"), str(feed)], capture_output=True, text=True, env=env,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"podcast-partytime could not parse {feed.name}: {done.stderr.strip()[-300:]}")
    return json.loads(done.stdout)
