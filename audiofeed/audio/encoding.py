"""Encoding: fitted samples in, MP3 frames out.

Every reader must agree on an MP3's duration: decoders (ffmpeg, browsers), tag readers
(mutagen) and the ID3 TLEN tag. They do when the file is constant bit rate with no Xing/Info
header and every frame is the same size, so duration = frames x 1,152 / sample rate whatever
the reader's method. At 48 kHz and 64 kbit/s a frame is exactly 192 bytes and 24 ms, with no
padding byte ever, so a runtime maps to a whole number of frames (within 12 ms) and an episode
made by joining its answers' frames needs no second encode: chapter starts fall on the joins.

The speech is resampled from the engine's rate (22,050 Hz for espeak-ng) to 48 kHz by soxr (:func:`resample`: a third of LAME's
cost when LAME resampled itself), then levelled (:mod:`.loudness`) and encoded by LAME through
``lameenc``, in process. LAME writes no Xing header and always emits ``floor(n / 1152) + 2``
frames for ``n`` samples at 48 kHz (its encoder delay and padding; measured on 40 random
lengths), and soxr gives ``round(n * 48000 / rate)`` samples for ``n`` at ``rate``, which
:func:`content_samples` inverts. Every function that counts speech samples takes their rate.
"""

from __future__ import annotations

import lameenc
import numpy as np
import soxr


from ..names import OUTPUT_RATE  # noqa: E402  (re-exported: the encoder's rate)
FRAME_SAMPLES = 1152
BITRATE_KBPS = 64
FRAME_BYTES = 144 * BITRATE_KBPS * 1000 // OUTPUT_RATE  # 192: no padding at 48 kHz
FRAME_SECONDS = FRAME_SAMPLES / OUTPUT_RATE  # 0.024
LAME_QUALITY = 7  # LAME's fast mode: half the time of the default, no audible loss for speech


def frames_for_runtime(seconds: float) -> int:
    """Frames whose decoded length is nearest to ``seconds`` (within 12 ms).

    >>> frames_for_runtime(71), frames_for_runtime(71) * FRAME_SECONDS
    (2958, 70.992)
    >>> frames_for_runtime(39) * FRAME_SECONDS
    39.0
    """
    return max(3, round(seconds / FRAME_SECONDS))


def content_samples(frames: int, rate: int) -> int:
    """Samples of speech at ``rate`` Hz that LAME turns into exactly ``frames`` frames.

    The input lands mid-way between two frame counts, so resampling's rounding cannot move it.

    >>> content_samples(2958, 22_050), content_samples(2958, 16_000)
    (1564580, 1135296)
    """
    return round(((frames - 2) * FRAME_SAMPLES + FRAME_SAMPLES // 2) * rate / OUTPUT_RATE)


def frames_for_content(samples: int, rate: int) -> int:
    """Frames LAME emits for ``samples`` samples of speech at ``rate`` Hz.

    >>> frames_for_content(content_samples(2958, 22_050), 22_050), frames_for_content(content_samples(9, 16_000), 16_000)
    (2958, 9)
    """
    return round(samples * OUTPUT_RATE / rate) // FRAME_SAMPLES + 2


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """16-bit speech at ``rate`` Hz as float samples in [-1, 1] at :data:`OUTPUT_RATE` (soxr, high quality).

    >>> len(resample(np.zeros(content_samples(2958, 22_050), dtype=np.int16), 22_050)) // FRAME_SAMPLES + 2
    2958
    """
    x = samples.astype(np.float32) / np.float32(32768)
    return soxr.resample(x, rate, OUTPUT_RATE, quality="HQ")


def encode(samples: np.ndarray) -> bytes:
    """Encode float mono samples at :data:`OUTPUT_RATE` as CBR MP3 frames, without any header."""
    frames = len(samples) // FRAME_SAMPLES + 2
    pcm = np.clip(np.round(samples * 32768), -32768, 32767).astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(OUTPUT_RATE)
    encoder.set_out_sample_rate(OUTPUT_RATE)
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    encoder.silence()
    mp3 = bytes(encoder.encode(pcm.tobytes()) + encoder.flush())
    if len(mp3) != frames * FRAME_BYTES:
        raise RuntimeError(f"LAME wrote {len(mp3)} bytes, expected {frames} frames of {FRAME_BYTES}")
    return mp3


FRAME_HEADER = bytes.fromhex("fffb54c4")  # MPEG-1 Layer III, 64 kbit/s, 48 kHz, no padding, mono, original


def check_frames(audio: bytes) -> int:
    """How many frames ``audio`` holds, each checked from the bytes: 192 bytes, starting with :data:`FRAME_HEADER`.

    Raises ``ValueError`` naming the first frame that is not one (a truncated, corrupted or
    foreign stream).

    >>> check_frames(FRAME_HEADER + bytes(188))
    1
    >>> check_frames(FRAME_HEADER + bytes(188) + bytes(192))
    Traceback (most recent call last):
    ...
    ValueError: frame 1 of 2 (byte 192) has no valid header
    """
    if len(audio) % FRAME_BYTES:
        raise ValueError(f"{len(audio)} bytes is not a whole number of {FRAME_BYTES}-byte frames")
    heads = np.frombuffer(audio, dtype=np.uint8).reshape(-1, FRAME_BYTES)[:, :4]
    bad = np.flatnonzero((heads != np.frombuffer(FRAME_HEADER, dtype=np.uint8)).any(axis=1))
    if len(bad):
        raise ValueError(f"frame {bad[0]} of {len(heads)} (byte {bad[0] * FRAME_BYTES}) has no valid header")
    return len(heads)


def audio_part(mp3_file: bytes) -> bytes:
    r"""The frames of an MP3 file: what follows its ID3v2 tag (if any).

    >>> audio_part(b"ID3\x03\x00\x00\x00\x00\x00\x02ab" + FRAME_HEADER) == FRAME_HEADER
    True
    """
    if mp3_file[:3] != b"ID3" or len(mp3_file) < 10:
        return mp3_file
    size = 0
    for b in mp3_file[6:10]:  # a synchsafe integer: 7 bits a byte
        size = size << 7 | (b & 0x7F)
    return mp3_file[10 + size :]


def frame_count(mp3: bytes) -> int:
    """Frames in a headerless stream written by :func:`encode` (or a join of such streams)."""
    return len(mp3) // FRAME_BYTES


def duration_ms(frames: int) -> int:
    """Exact decoded duration of ``frames`` frames, in milliseconds."""
    return frames * FRAME_SAMPLES * 1000 // OUTPUT_RATE
