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

import math

import lameenc

import numpy as np
import soxr


from ..names import OUTPUT_RATE  # noqa: E402  (re-exported: the encoder's rate)
FRAME_SAMPLES = 1152
# The bit rates offered: 64 kbit/s (the default: above Apple's 32 kbit/s minimum for mono MP3,
# plenty for speech) and Apple's recommended 96-128 for mono. At 48 kHz every one of them gives
# frames of a whole number of bytes (3 x the rate), so no frame ever has a padding byte.
from ..defaults import BITRATE_KBPS, BITRATES_KBPS  # noqa: E402  (the command line shows them without numpy)
_BITRATE_INDEX = {64: 5, 96: 7, 128: 9}  # MPEG-1 Layer III bit rate index in the frame header


def frame_bytes(kbps: int = BITRATE_KBPS) -> int:
    """Bytes of every frame at ``kbps`` kbit/s and 48 kHz.

    >>> [frame_bytes(k) for k in BITRATES_KBPS]
    [192, 288, 384]
    """
    return 144 * kbps * 1000 // OUTPUT_RATE


def frame_header(kbps: int = BITRATE_KBPS) -> bytes:
    """The 4 bytes every frame starts with: MPEG-1 Layer III, ``kbps``, 48 kHz, no padding, mono, original.

    >>> frame_header(64).hex(), frame_header(128).hex()
    ('fffb54c4', 'fffb94c4')
    """
    return bytes([0xFF, 0xFB, _BITRATE_INDEX[kbps] << 4 | 0x01 << 2, 0xC4])


FRAME_BYTES = frame_bytes(BITRATE_KBPS)  # 192 at the default
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


RESAMPLE_CHUNK = 1 << 16  # input samples resampled at a time


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """16-bit speech at ``rate`` Hz as float samples in [-1, 1] at :data:`OUTPUT_RATE` (soxr, high quality).

    >>> len(resample(np.zeros(content_samples(2958, 22_050), dtype=np.int16), 22_050)) // FRAME_SAMPLES + 2
    2958
    """
    # Streamed a chunk at a time into one array: a long answer is never held twice as floats.
    # soxr's output does not depend on how its input is cut (the same samples as soxr.resample).
    stream = soxr.ResampleStream(rate, OUTPUT_RATE, 1, dtype="float32", quality="HQ")
    out = np.empty(math.ceil(len(samples) * OUTPUT_RATE / rate) + RESAMPLE_CHUNK, dtype=np.float32)
    filled = 0
    for start in range(0, max(len(samples), 1), RESAMPLE_CHUNK):
        chunk = samples[start : start + RESAMPLE_CHUNK].astype(np.float32)
        chunk /= np.float32(32768)
        part = stream.resample_chunk(chunk, last=start + RESAMPLE_CHUNK >= len(samples))
        out[filled : filled + len(part)] = part
        filled += len(part)
    return out[:filled]


ENCODE_CHUNK = FRAME_SAMPLES * 256  # samples given to LAME at a time (it buffers across calls: the frames do not change)


def encode(samples: np.ndarray, kbps: int = BITRATE_KBPS) -> bytes:
    """Encode float mono samples at :data:`OUTPUT_RATE` as CBR MP3 frames of ``kbps``, without any header."""
    frames = len(samples) // FRAME_SAMPLES + 2
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(OUTPUT_RATE)
    encoder.set_out_sample_rate(OUTPUT_RATE)
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    encoder.silence()
    out = bytearray()
    for start in range(0, len(samples), ENCODE_CHUNK):  # a chunk at a time: bounded memory, the same frames
        chunk = samples[start : start + ENCODE_CHUNK] * np.float32(32768)
        out += encoder.encode(np.clip(np.round(chunk, out=chunk), -32768, 32767, out=chunk).astype("<i2").tobytes())
    mp3 = bytes(out + encoder.flush())
    if len(mp3) != frames * frame_bytes(kbps) or (frames and mp3[:4] != frame_header(kbps)):
        raise RuntimeError(f"LAME wrote {len(mp3)} bytes, expected {frames} frames of {frame_bytes(kbps)}")
    return mp3


FRAME_HEADER = frame_header(BITRATE_KBPS)  # at the default rate


def bitrate_of(audio: bytes) -> int:
    """The bit rate of a stream of our frames, read from its first header (the default if empty).

    >>> bitrate_of(frame_header(96) + bytes(284))
    96
    """
    if len(audio) < 4:
        return BITRATE_KBPS
    for kbps in BITRATES_KBPS:
        if audio[:4] == frame_header(kbps):
            return kbps
    raise ValueError("its first frame is not an MPEG-1 Layer III mono 48 kHz frame of 64, 96 or 128 kbit/s")


def check_frames(audio: bytes) -> int:
    """How many frames ``audio`` holds, each checked from the bytes: all of the first one's bit
    rate and size (192 bytes at 64 kbit/s), each starting with the same header.

    Raises ``ValueError`` naming the first frame that is not one (a truncated, corrupted or
    foreign stream).

    >>> check_frames(FRAME_HEADER + bytes(188))
    1
    >>> check_frames(FRAME_HEADER + bytes(188) + bytes(192))
    Traceback (most recent call last):
    ...
    ValueError: frame 1 of 2 (byte 192) has no valid header
    """
    kbps = bitrate_of(audio)
    size = frame_bytes(kbps)
    if len(audio) % size:
        raise ValueError(f"{len(audio)} bytes is not a whole number of {size}-byte frames")
    heads = np.frombuffer(audio, dtype=np.uint8).reshape(-1, size)[:, :4]
    bad = np.flatnonzero((heads != np.frombuffer(frame_header(kbps), dtype=np.uint8)).any(axis=1))
    if len(bad):
        raise ValueError(f"frame {bad[0]} of {len(heads)} (byte {bad[0] * size}) has no valid header")
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
    """Frames in a headerless stream written by :func:`encode` (or a join of such streams of one rate)."""
    return len(mp3) // frame_bytes(bitrate_of(mp3))


def duration_ms(frames: int) -> int:
    """Exact decoded duration of ``frames`` frames, in milliseconds."""
    return frames * FRAME_SAMPLES * 1000 // OUTPUT_RATE
