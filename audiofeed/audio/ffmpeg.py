"""Where ffmpeg is: on ``PATH`` if installed, else the binary the ``imageio-ffmpeg`` wheel ships."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from ..names import OUTPUT_RATE


@functools.cache
def ffmpeg_exe() -> str:
    """Path of an ffmpeg executable."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decoded_samples(path: Path, sample_rate: int = OUTPUT_RATE) -> int:
    """Samples ffmpeg decodes from an audio file (mono, at ``sample_rate``), as a player would."""
    out = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1",
         "-ar", str(sample_rate), "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    )
    return len(out.stdout) // 2
