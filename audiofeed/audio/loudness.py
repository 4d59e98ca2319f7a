"""Loudness: fitted speech in, speech at the level podcast platforms ask for out.

Every answer is brought to -16 LUFS integrated (ITU-R BS.1770-4) with a true peak of at most
-1 dBTP. espeak-ng's voices differ in level by several LU, and their peaks sit about 21 dB above
their loudness, so a gain alone cannot meet both targets: a look-ahead peak limiter takes the
highest peaks down first, then one gain sets the loudness.

The meter is libebur128 (through ``pyebur128``), the reference implementation that ffmpeg's
``ebur128`` filter shares. Levelling is one measurement, one limiter pass and one verification.
The limiter's threshold is found by bisection, but on the signal's 1 ms blocks (their peaks and
energies), not on samples: peaks may sit :data:`ALLOWED_CREST` dB above the loudness, less the
energy the limiter itself takes, which its gain curve gives for free. The verification measures what the
limiter left; the final gain is exact in loudness, because gain moves loudness dB for dB.

The limiter's gain moves over 5 ms windows, so it never clips a waveform and never changes
timing. This stage only changes level: rate, pauses and duration stay exactly as fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyebur128

TARGET_LUFS = -16.0  # for the published MP3
# LAME's low-pass at 64 kbit/s takes a little off the highs that K-weighting counts: measured
# (ffmpeg ebur128 on the MP3s against libebur128 on the levelled speech) on the sample pages.
ENCODER_LOSS = 0.45
SPEECH_TARGET = TARGET_LUFS + ENCODER_LOSS
TRUE_PEAK_MAX = -1.0  # dBTP, for the published MP3
CEILING = -2.5  # dBTP aimed at before encoding: MP3 coding adds up to about 1 dB to peaks
SAMPLE_MARGIN = 0.5  # dB the limiter keeps sample peaks under the ceiling, for inter-sample peaks
ALLOWED_CREST = CEILING - SPEECH_TARGET  # dB peaks may sit above the loudness
WINDOW = 0.005  # seconds over which the limiter's gain moves
TRUE_PEAK_SEARCH = 4.0  # dB below the sample peak where inter-sample peaks are looked for
MAX_LIMITING = 18.0  # dB the limiter may take off the highest peak
CHUNK = 1 << 16  # samples worked on at a time: a 20-minute answer's temporaries stay a few MB


@dataclass(frozen=True)
class Levelled:
    samples: np.ndarray  # float32 in [-1, 1], at the input's rate
    loudness: float  # LUFS integrated, as the MP3 will measure (see ENCODER_LOSS)
    true_peak: float  # dBTP (4x oversampled)
    gain: float  # dB of makeup gain after the limiter
    limited: float  # dB the limiter's threshold sits below the input's sample peak


def integrated_loudness(x: np.ndarray, rate: int) -> float:
    """BS.1770-4 integrated loudness of mono samples (16-bit, or float in [-1, 1]), in LUFS (libebur128)."""
    state = pyebur128.R128State(1, rate, pyebur128.MeasurementMode.MODE_I)
    x = np.ascontiguousarray(x, dtype=np.int16 if x.dtype == np.int16 else np.float32)
    if len(x):
        state.add_frames(x, len(x))
    return pyebur128.get_loudness_global(state)


def _phase_kernels(taps: int = 48, factor: int = 4) -> np.ndarray:
    """Kaiser-windowed sinc interpolators for the points between samples (1/4, 2/4, 3/4)."""
    n = np.arange(-taps // 2 + 1, taps // 2 + 1)
    return np.array([np.sinc(n - k / factor) * np.kaiser(taps, 8.0) for k in range(1, factor)])


_KERNELS = _phase_kernels()


def true_peak(x: np.ndarray) -> float:
    """Peak of the 4x oversampled signal, in dBTP (BS.1770 Annex 2).

    A true peak lies between a local maximum of ``|x|`` and one of its neighbours, and exceeds
    that sample by at most a few dB, so only those intervals are interpolated. This is an order of
    magnitude cheaper than oversampling the whole signal (libebur128's true-peak mode) and agrees
    with it (a test checks this).
    """
    if len(x) < 3:
        return 20 * math.log10(float(np.abs(x).max())) if len(x) and np.abs(x).max() > 0 else -math.inf
    sample_peak = max(float(np.abs(x[i:i + CHUNK]).max()) for i in range(0, len(x), CHUNK))
    if sample_peak == 0:
        return -math.inf
    half = _KERNELS.shape[1] // 2
    floor = sample_peak * 10 ** (-TRUE_PEAK_SEARCH / 20)
    taps = np.arange(-half + 1, half + 1)
    peak = sample_peak
    for start in range(1, len(x) - 1, CHUNK):  # a chunk at a time: memory stays bounded for any length
        stop = min(start + CHUNK, len(x) - 1)
        a = np.abs(x[start - 1 : stop + 1])
        inner = a[1:-1]
        maxima = np.flatnonzero((inner >= a[:-2]) & (inner >= a[2:]) & (inner > floor)) + start
        near = np.concatenate((maxima - 1, maxima))  # the intervals either side of each maximum
        near = near[(near >= half - 1) & (near < len(x) - half)]
        if len(near):
            windows = x[near[:, None] + taps]
            peak = max(peak, float(np.abs(windows @ _KERNELS.T).max()))
    return 20 * math.log10(peak)


def _min_filter(x: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(x, radius, mode="edge")
    out = padded[: len(x)].copy()
    for k in range(1, 2 * radius + 1):
        np.minimum(out, padded[k : k + len(x)], out=out)
    return out


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    left = width // 2
    padded = np.pad(x, (left, width - 1 - left), mode="edge")
    sums = np.concatenate(([0.0], np.cumsum(padded)))
    return (sums[width:] - sums[:-width]) / width


BLOCK = 0.0025  # seconds: the limiter decides its gain per block of this length


@dataclass(frozen=True)
class _Blocks:
    """The signal as the limiter sees it: each block's peak and energy."""

    peaks: np.ndarray
    energy: np.ndarray
    size: int  # samples per block
    radius: int  # blocks the gain is held for, each side of a peak

    @classmethod
    def of(cls, x: np.ndarray, rate: int) -> _Blocks:
        size = max(1, int(BLOCK * rate))
        full = len(x) // size
        peaks, energy = np.empty(full, dtype=x.dtype), np.empty(full, dtype=np.float64)
        rows = max(1, CHUNK // size)
        for r in range(0, full, rows):  # a chunk of blocks at a time (bounded memory; the same figures)
            body = x[r * size : min(r + rows, full) * size].reshape(-1, size)
            peaks[r : r + len(body)] = np.abs(body).max(axis=1)
            energy[r : r + len(body)] = np.einsum("ij,ij->i", body, body, dtype=np.float64)
        if len(x) > full * size:
            tail = x[full * size :]
            peaks, energy = np.append(peaks, np.abs(tail).max()), np.append(energy, float(np.dot(tail, tail)))
        return cls(peaks, energy, size, max(1, int(WINDOW * rate) // size))

    def gain(self, threshold: float) -> np.ndarray:
        """The limiter's gain per block for a linear ``threshold``: held over the window, then smoothed.

        The moving average is no wider than the hold, so the smoothed gain never rises above
        what any sample needs.
        """
        need = np.minimum(1.0, threshold / np.maximum(self.peaks, 1e-9))
        return _moving_average(_min_filter(need, self.radius), self.radius + 1)

    def taken_db(self, threshold_db: float) -> float:
        """Energy the limiter would take at ``threshold_db``, in dB (from blocks alone: no pass over samples)."""
        g = self.gain(10 ** (threshold_db / 20))
        return 10 * math.log10(float(self.energy.sum()) / max(float(np.dot(self.energy, g * g)), 1e-30))


def limit(x: np.ndarray, threshold_db: float, rate: int, blocks: _Blocks | None = None,
          in_place: bool = False) -> np.ndarray:
    """Look-ahead peak limiter: no sample above ``threshold_db``, gain changes spread over :data:`WINDOW`.

    The gain is decided per 2.5 ms block (:meth:`_Blocks.gain`) and interpolated linearly between
    block centres; a chunk of blocks at a time, no indexing. ``in_place``: into ``x`` itself.

    >>> x = np.sin(np.linspace(0, 200 * np.pi, 22050)).astype(np.float32)
    >>> y = limit(x, -6.0, 22050)
    >>> round(20 * math.log10(float(np.abs(y).max())), 2) <= -6.0, len(y) == len(x)
    (True, True)
    """
    threshold = 10 ** (threshold_db / 20)
    blocks = blocks or _Blocks.of(x, rate)
    if blocks.peaks.max() <= threshold:
        return x
    g = blocks.gain(threshold).astype(np.float32)
    size, full = blocks.size, len(x) // blocks.size
    offset = (np.arange(size, dtype=np.float32) - np.float32(size / 2)) / np.float32(size)  # from the centre, in blocks
    toward_prev = np.concatenate((g[:1], g[:-1])) - g
    toward_next = np.concatenate((g[1:], g[-1:])) - g
    before = offset < 0
    y = x if in_place else np.empty_like(x)
    rows = max(1, CHUNK // size)
    ramp = np.empty((rows, size), dtype=np.float32)
    for r in range(0, full, rows):  # a chunk of blocks at a time: the gain ramp, times the samples, clipped
        n = min(rows, full - r)
        body = ramp[:n]
        np.multiply(np.abs(offset), toward_prev[r : r + n, None] * before + toward_next[r : r + n, None] * ~before, out=body)
        body += g[r : r + n, None]
        out = y[r * size : (r + n) * size].reshape(n, size)
        np.multiply(body, x[r * size : (r + n) * size].reshape(n, size), out=out)
        np.clip(out, -threshold, threshold, out=out)  # exact at the threshold where the ramp is not
    if len(x) > full * size:  # the last, partial block
        tail = slice(full * size, len(x))
        np.multiply(np.float32(g[-1]), x[tail], out=y[tail])
        np.clip(y[tail], -threshold, threshold, out=y[tail])
    return y


def level(x: np.ndarray, rate: int, loudness: float | None = None, in_place: bool = False) -> Levelled:
    """Bring float speech in [-1, 1] to :data:`SPEECH_TARGET` with true peaks at or below :data:`CEILING`.

    Run it on the signal as it will be encoded (48 kHz): its samples sit close to the true peak,
    so the limiter, which sees samples, holds the true peak too. ``loudness`` is ``x``'s
    integrated loudness if it was measured already (on the same speech before resampling, at
    less than half the cost: the two agree to 0.01 LU). ``in_place``: level ``x`` itself (a
    private copy, such as the resampled speech), so a long answer is held once, not twice.
    """
    x = np.asarray(x, dtype=np.float32)
    if loudness is None:
        loudness = integrated_loudness(x, rate)  # the one measurement
    if not math.isfinite(loudness):  # silence: nothing to level
        return Levelled(x, loudness, true_peak(x), 0.0, 0.0)
    # Peaks may sit ALLOWED_CREST above the loudness. The limiter lowers the loudness too, by the
    # energy it takes (K-weighted and plain energy agree on this to 0.07 dB), so its threshold
    # goes that much lower. The crest left, threshold - (loudness - taken), grows with the
    # threshold; it is bisected on the blocks' peaks and energies (1 ms a step), not on samples.
    blocks = _Blocks.of(x, rate)
    sample_peak = 20 * math.log10(max(float(blocks.peaks.max()), 1e-9))

    def crest_left(threshold: float) -> float:
        return threshold - loudness + blocks.taken_db(threshold)

    low, high = sample_peak - MAX_LIMITING, sample_peak
    if crest_left(high) <= ALLOWED_CREST - SAMPLE_MARGIN:
        low = high  # peaks already low enough: nothing to limit
    while high - low > 0.02:
        middle = (low + high) / 2
        if crest_left(middle) > ALLOWED_CREST - SAMPLE_MARGIN:
            high = middle
        else:
            low = middle
    threshold = low  # the crest never above the aim (or as far as the limiter may go)
    y = limit(x, threshold, rate, blocks, in_place=in_place)
    # The verification: what the limiter left, measured. The gain is exact for loudness; it is
    # capped so that the true peak stays under the ceiling (then the loudness lands a little low).
    limited_loudness, peak = integrated_loudness(y, rate), true_peak(y)
    gain = min(SPEECH_TARGET - limited_loudness, CEILING - peak)
    if y is x and not in_place:
        y = x.copy()  # never change the caller's samples
    y *= np.float32(10 ** (gain / 20))
    return Levelled(y, round(limited_loudness + gain - ENCODER_LOSS, 2), round(peak + gain, 2), round(gain, 2),
                    round(max(0.0, sample_peak - threshold), 2))
