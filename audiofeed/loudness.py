"""Loudness: fitted speech in, speech at the level podcast platforms ask for out.

Every answer is brought to -16 LUFS integrated (ITU-R BS.1770-4, K-weighting and gating as
libebur128 and ffmpeg's ebur128 compute them, in numpy alone: scipy's import alone costs
0.9 s a process; the tests check the MP3s with ffmpeg) with
a true peak of at most -1 dBTP. espeak-ng's voices differ in level by several LU, and their peaks
sit about 21 dB above their loudness. So a gain alone cannot meet both targets. A gentle
look-ahead peak limiter takes the few highest peaks down, and makeup gain brings the loudness
back. The limiter's gain moves over 5 ms windows, so it never clips a waveform and never
changes timing. This stage only changes level: rate, pauses and duration stay exactly as fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .speech import SAMPLE_RATE

TARGET_LUFS = -16.0  # for the published MP3
# LAME's low-pass at 64 kbit/s takes a little off the highs that K-weighting counts: the MP3s
# measured (ffmpeg ebur128) 0.3-0.6 LU below the levelled speech on the sample pages.
ENCODER_LOSS = 0.45
SPEECH_TARGET = TARGET_LUFS + ENCODER_LOSS
TRUE_PEAK_MAX = -1.0  # dBTP, for the published MP3
CEILING = -2.5  # dBTP aimed at before encoding: MP3 coding adds up to about 1 dB to peaks
WINDOW = 0.005  # seconds over which the limiter's gain moves


@dataclass(frozen=True)
class Levelled:
    samples: np.ndarray  # int16
    loudness: float  # LUFS integrated, as the MP3 will measure (see ENCODER_LOSS)
    true_peak: float  # dBTP (4x oversampled)


def _k_weighting(rate: int) -> list[tuple[list[float], list[float]]]:
    """BS.1770's two K-weighting biquads for any sample rate (libebur128's formulas)."""
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = ([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0],
             [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    highpass = ([1.0, -2.0, 1.0], [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return [shelf, highpass]


def biquad(b: list[float], a: list[float], x: np.ndarray, chunk: int = 512) -> np.ndarray:
    """``x`` through the biquad (b, a), as ``scipy.signal.lfilter`` would give it, in numpy alone.

    The feed-forward part is vectorized directly. The recursive part runs on all chunks of the
    signal at once from zero state. Each chunk is then corrected for the state it really starts
    in, which is carried from chunk to chunk through the response to unit initial conditions.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal(10_000)
    >>> y = biquad([0.2, 0.3, 0.2], [1.0, -1.2, 0.5], x, chunk=64)
    >>> xp = np.concatenate(([0.0, 0.0], x)); rp = np.zeros(len(x) + 2)
    >>> for n in range(2, len(xp)):
    ...     rp[n] = 0.2 * xp[n] + 0.3 * xp[n - 1] + 0.2 * xp[n - 2] + 1.2 * rp[n - 1] - 0.5 * rp[n - 2]
    >>> ref = rp[2:]
    >>> bool(np.allclose(y, ref))
    True
    """
    b0, b1, b2 = (v / a[0] for v in b)
    a1, a2 = a[1] / a[0], a[2] / a[0]
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    v = b0 * x
    v[1:] += b1 * x[:-1]
    v[2:] += b2 * x[:-2]
    k = -(-n // chunk)
    # rows: position within a chunk; columns: chunks (so each step is one contiguous row)
    v = np.concatenate((v, np.zeros(k * chunk - n))).reshape(k, chunk).T.copy()
    y = np.empty_like(v)

    def run(prev1: np.ndarray, prev2: np.ndarray) -> None:
        for m in range(chunk):  # every chunk at once, one step at a time
            row = y[m]
            np.multiply(prev1, -a1, out=row)
            row -= a2 * prev2
            row += v[m]
            prev2, prev1 = prev1, row

    run(np.zeros(k), np.zeros(k))  # from zero state: gives each chunk's final state, less its start's share
    # response to unit initial conditions y[-1] = 1 (alpha) and y[-2] = 1 (beta), at a chunk's end
    p1, p2, q1, q2 = 1.0, 0.0, 0.0, 1.0
    for m in range(chunk):
        if m == chunk - 1:
            alpha2, beta2 = p1, q1
        p1, p2 = -a1 * p1 - a2 * p2, p1
        q1, q2 = -a1 * q1 - a2 * q2, q1
    alpha1, beta1 = p1, q1
    ends1, ends2 = y[-1].tolist(), y[-2].tolist()
    start1, start2 = [0.0] * k, [0.0] * k
    last1 = last2 = 0.0
    for j in range(1, k):  # the true state each chunk starts in
        last1, last2 = (ends1[j - 1] + alpha1 * last1 + beta1 * last2,
                        ends2[j - 1] + alpha2 * last1 + beta2 * last2)
        start1[j], start2[j] = last1, last2
    run(np.array(start1), np.array(start2))  # again, from the true states
    return y.T.ravel()[:n]


def _min_filter(x: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(x, radius, mode="edge")
    return sliding_window_view(padded, 2 * radius + 1).min(axis=1)


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    left = width // 2
    padded = np.pad(x, (left, width - 1 - left), mode="edge")
    sums = np.concatenate(([0.0], np.cumsum(padded)))
    return (sums[width:] - sums[:-width]) / width


def integrated_loudness(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """BS.1770-4 integrated loudness of mono float samples in [-1, 1], in LUFS.

    400 ms blocks every 100 ms, an absolute gate at -70 LUFS and a relative gate 10 LU below.
    """
    y = x
    for b, a in _k_weighting(rate):
        y = biquad(b, a, y)
    size, step = int(0.4 * rate), int(0.1 * rate)
    if len(y) < size:
        return -math.inf
    energy = np.concatenate(([0.0], np.cumsum(y * y)))
    starts = np.arange(0, len(y) - size + 1, step)
    blocks = (energy[starts + size] - energy[starts]) / size
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(blocks)
    gated = blocks[loud > -70]
    if not len(gated):
        return -math.inf
    relative = -0.691 + 10 * math.log10(gated.mean()) - 10
    with np.errstate(divide="ignore"):
        final = gated[-0.691 + 10 * np.log10(gated) > relative]
    return -0.691 + 10 * math.log10(final.mean())


def _phase_kernels(taps: int = 48, factor: int = 4) -> np.ndarray:
    """Kaiser-windowed sinc interpolators for the points between samples (1/4, 2/4, 3/4)."""
    n = np.arange(-taps // 2 + 1, taps // 2 + 1)
    kernels = []
    for k in range(1, factor):
        t = n - k / factor
        kernels.append(np.sinc(t) * np.kaiser(taps, 8.0))
    return np.array(kernels)


_KERNELS = _phase_kernels()


def true_peak(x: np.ndarray) -> float:
    """Peak of the 4x oversampled signal, in dBTP (BS.1770 Annex 2).

    Inter-sample peaks exceed the sample peak by at most a few dB, so only the points around
    the loudest samples need interpolating.
    """
    if not len(x):
        return -math.inf
    a = np.abs(x)
    sample_peak = float(a.max())
    if sample_peak == 0:
        return -math.inf
    half = _KERNELS.shape[1] // 2
    near = np.flatnonzero(a > sample_peak * 10 ** (-4 / 20))
    near = np.unique(np.concatenate((near - 1, near)))
    near = near[(near >= half - 1) & (near < len(x) - half)]
    peak = sample_peak
    if len(near):
        windows = x[near[:, None] + np.arange(-half + 1, half + 1)]
        peak = max(peak, float(np.abs(windows @ _KERNELS.T).max()))
    return 20 * math.log10(peak)


def limit(x: np.ndarray, ceiling_db: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Look-ahead peak limiter: no sample above ``ceiling_db``, gain changes spread over :data:`WINDOW`.

    Works on 2.5 ms blocks: the needed gain is held over the window by a minimum filter, then
    smoothed by a moving average no wider than the hold, so the smoothed gain never rises above
    what any sample needs; it is interpolated back to samples.
    """
    ceiling = 10 ** (ceiling_db / 20)
    a = np.abs(x)
    block = max(1, int(0.0025 * rate))
    full = len(x) // block
    peaks = a[: full * block].reshape(full, block).max(axis=1)
    if len(x) > full * block:
        peaks = np.append(peaks, a[full * block :].max())
    if peaks.max() <= ceiling:
        return x
    n = len(peaks)
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    radius = max(1, int(WINDOW * rate) // block)
    held = _min_filter(need, radius)
    smooth = _moving_average(held, radius + 1)
    # Interpolate only where the gain is below 1 (around peaks): most of the signal is untouched.
    active = np.flatnonzero(_min_filter(smooth, 1) < 1.0)
    y = x.copy()
    if len(active):
        idx = (active[:, None] * block + np.arange(block)).ravel()
        idx = idx[idx < len(x)]
        gain = np.interp(idx, np.arange(n) * block + block / 2, smooth)
        y[idx] = x[idx] * np.minimum(gain, np.minimum(1.0, ceiling / np.maximum(a[idx], 1e-9))).astype(x.dtype)
    return y


def normalize(samples: np.ndarray, rate: int = SAMPLE_RATE) -> Levelled:
    """Bring 16-bit speech to :data:`TARGET_LUFS` with true peaks at or below :data:`CEILING`."""
    x = samples.astype(np.float32) / np.float32(32768)
    half, half_rate = x[::2], rate // 2
    loudness = integrated_loudness(half, half_rate)
    if not math.isfinite(loudness):  # silence: nothing to level
        return Levelled(samples, loudness, true_peak(x))
    ceiling = CEILING - 0.5  # room for inter-sample peaks, checked below

    def level(signal: np.ndarray, signal_rate: int, gain_db: float) -> tuple[np.ndarray, float]:
        y = limit(signal * np.float32(10 ** (gain_db / 20)), ceiling, signal_rate)
        if signal_rate == rate:
            peak = true_peak(y)
            if peak > CEILING:  # inter-sample peaks above the aim: limit lower
                y = limit(y, ceiling - (peak - CEILING) - 0.1, signal_rate)
        return y, integrated_loudness(y, signal_rate)

    # Find the gain before the limiter that lands on the target: the secant method, since
    # loudness rises less than the gain as the limiter takes more off the peaks. The search runs
    # on every other sample (a quarter of the cost); one exact step at the full rate follows.
    g0 = SPEECH_TARGET - loudness
    _, l0 = level(half, half_rate, g0)
    g1 = g0 + (SPEECH_TARGET - l0)
    for _ in range(3):
        if abs(SPEECH_TARGET - l0) < 0.1:
            break
        _, l1 = level(half, half_rate, g1)
        if l1 == l0:
            break
        g0, g1, l0 = g1, g1 + (SPEECH_TARGET - l1) * (g1 - g0) / (l1 - l0), l1
    gain = g0
    y, measured = level(x, rate, gain)
    slope = 0.45  # LU per dB of gain, typical once the limiter works
    for _ in range(3):  # the half-rate estimate can be off: correct at the full rate
        if abs(SPEECH_TARGET - measured) <= 0.25:
            break
        step = (SPEECH_TARGET - measured) / slope
        y2, measured2 = level(x, rate, gain + step)
        if measured2 != measured:
            slope = max(0.1, (measured2 - measured) / step)
        gain, y, measured = gain + step, y2, measured2
    out = np.clip(np.round(y * 32768), -32768, 32767).astype(np.int16)
    final = out.astype(np.float64) / 32768
    # Reported as the MP3 will measure: the levelled loudness less the encoder's loss.
    return Levelled(out, round(integrated_loudness(final, rate) - ENCODER_LOSS, 2), round(true_peak(final), 2))
