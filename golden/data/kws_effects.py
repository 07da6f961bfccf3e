"""What real recordings do to a keyword, done to a clean espeak-ng clip.

Why: espeak-ng speaks each word almost the same way every time, so a DS-CNN
trained on clean synthetic clips scores 100 % and the golden references can
show no regression. Real recordings differ in the ways modelled here:
speaking rate and vocal-tract length (`speed`: resampling, which moves tempo
and pitch together like ``sox speed``), the microphone's band (`band_limit`),
the room (`reverberate`: an exponentially decaying noise tail, the usual
synthetic impulse response), and what else is heard (`background`: coloured
noise, mains hum, babble-like modulated noise, music-like tones).

Every function is pure: same arguments (including the state of the
``numpy.random.Generator`` passed in) give the same samples.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

SAMPLE_RATE = 16000
NOISE_KINDS = ("white", "pink", "brown", "babble", "music")
HUM_PROBABILITY = 0.25


def _unit_rms(x: np.ndarray) -> np.ndarray:
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (and higher): 1.1 is 10 % shorter."""
    down = int(round(100 * factor))
    if down == 100:
        return x
    g = np.gcd(100, down)
    return resample_poly(x, 100 // g, down // g)


def band_limit(x: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    """A cheap microphone: 2nd-order high-pass at ``low_hz``, 4th-order low-pass at ``high_hz``."""
    nyq = SAMPLE_RATE / 2
    if low_hz > 0:
        x = sosfilt(butter(2, low_hz / nyq, "highpass", output="sos"), x)
    if 0 < high_hz < nyq:
        x = sosfilt(butter(4, high_hz / nyq, "lowpass", output="sos"), x)
    return x


def room_impulse(rng: np.random.Generator, rt60_s: float, drr_db: float) -> np.ndarray:
    """Direct path plus a diffuse tail decaying 60 dB in ``rt60_s``.

    ``drr_db`` is the direct-to-reverberant energy ratio (distance to the
    microphone: high = close). Early reflections start after 2-8 ms.
    """
    n = max(int(1.2 * rt60_s * SAMPLE_RATE), 16)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60_s)  # ln(1000) = 60 dB
    gap = int(rng.uniform(0.002, 0.008) * SAMPLE_RATE)
    tail[:gap] = 0.0
    tail *= np.sqrt(10.0 ** (-drr_db / 10.0) / (np.sum(tail**2) + 1e-12))
    tail[0] = 1.0
    return tail


def reverberate(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``x`` heard in the room ``h``; the result keeps the reverberant tail."""
    return fftconvolve(x, h)


def _coloured(rng: np.random.Generator, n: int, colour: str) -> np.ndarray:
    x = rng.standard_normal(n)
    if colour == "white":
        return x
    spec = np.fft.rfft(x)
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    spec /= np.sqrt(f) if colour == "pink" else f
    spec[0] = 0.0
    return np.fft.irfft(spec, n)


def _envelope(rng: np.random.Generator, n: int, rate_hz: float) -> np.ndarray:
    """A positive, smooth random envelope with about ``rate_hz`` bumps per second."""
    knots = max(int(n / SAMPLE_RATE * rate_hz) + 2, 3)
    vals = np.maximum(rng.standard_normal(knots), 0.0) ** 1.5
    return np.interp(np.arange(n), np.linspace(0, n - 1, knots), vals)


def _babble(rng: np.random.Generator, n: int) -> np.ndarray:
    """Several distant talkers: speech-band noise with syllable-rate envelopes."""
    sos = butter(2, [200 / 8000, 3400 / 8000], "bandpass", output="sos")
    out = np.zeros(n)
    for _ in range(int(rng.integers(2, 7))):
        voice = sosfilt(sos, _coloured(rng, n, "pink"))
        out += _unit_rms(voice) * _envelope(rng, n, rng.uniform(3.0, 7.0))
    return out


def _music(rng: np.random.Generator, n: int) -> np.ndarray:
    """Notes of a few harmonics with decaying envelopes, one chord after another."""
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    at = 0
    while at < n:
        length = int(rng.uniform(0.12, 0.5) * SAMPLE_RATE)
        seg = slice(at, min(at + length, n))
        tt = t[seg] - t[at]
        for _ in range(int(rng.integers(1, 4))):
            f0 = 110.0 * 2.0 ** (rng.integers(0, 36) / 12.0)
            for k in range(1, 5):
                if f0 * k < SAMPLE_RATE / 2:
                    out[seg] += np.sin(2 * np.pi * f0 * k * tt) / k * np.exp(-tt * rng.uniform(2, 8))
        at += length
    return out


def _hum(rng: np.random.Generator, n: int) -> np.ndarray:
    mains = (50.0, 60.0)[rng.integers(2)]
    t = np.arange(n) / SAMPLE_RATE
    hum = np.zeros(n)
    for k in range(1, 5):
        hum += rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 2 * np.pi))
    return hum


def background(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS background of a random kind, sometimes with mains hum."""
    kind = NOISE_KINDS[rng.integers(len(NOISE_KINDS))]
    if kind == "babble":
        x = _babble(rng, n)
    elif kind == "music":
        x = _music(rng, n)
    else:
        x = _coloured(rng, n, kind)
    x = _unit_rms(x)
    if rng.random() < HUM_PROBABILITY:
        x = _unit_rms(x + rng.uniform(0.3, 2.0) * _unit_rms(_hum(rng, n)))
    return x
