"""Hello Edge MFCC features (librosa) and their per-coefficient normalisation.

Why these numbers: Hello Edge (Zhang et al. 2017) and the MLPerf Tiny KWS
model feed the DS-CNN 49 frames x 10 MFCC per 1 s clip (40 ms window, 20 ms
hop), so the device input is 1x49x10 = 490 int8 values.

Exact parameters (all in ``PARAMS``):

* 16 kHz input, exactly 16000 samples per clip.
* STFT: ``n_fft = win_length = 640`` (40 ms), ``hop_length = 320`` (20 ms),
  periodic Hann window, ``center=False`` (no padding), so the frame count is
  ``1 + (16000 - 640) // 320 = 49``. (TensorFlow zero-pads each 640-sample
  frame to a 1024-point FFT; librosa with ``n_fft=1024, center=False`` would
  give only 47 frames, so the FFT here is 640 points: same frames, 25 Hz bins.)
* Magnitude spectrum (``power=1``), as TensorFlow's ``mfcc`` op and CMSIS-DSP
  ``arm_mfcc`` use, through 40 HTK-formula mel filters from 20 to 4000 Hz
  (TensorFlow's defaults), Slaney area normalisation (librosa default).
* ``log(mel + 1e-6)`` (natural log; a fixed floor rather than librosa's
  ``power_to_db`` whose ``top_db`` clipping depends on each clip's maximum),
  then DCT-II with orthonormal scaling, first 10 coefficients.

Output layout is [N, 49, 10]: H = 49 time frames, W = 10 coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
N_FFT = 640
WIN_LENGTH = 640
HOP_LENGTH = 320
N_MELS = 40
N_MFCC = 10
FMIN = 20.0
FMAX = 4000.0
LOG_FLOOR = 1e-6
N_FRAMES = 1 + (CLIP_SAMPLES - N_FFT) // HOP_LENGTH  # 49

# Everything that determines the features; part of the feature cache key.
PARAMS = {
    "sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "win_length": WIN_LENGTH,
    "hop_length": HOP_LENGTH, "window": "hann", "center": False, "power": 1.0,
    "n_mels": N_MELS, "fmin": FMIN, "fmax": FMAX, "htk": True, "mel_norm": "slaney",
    "log": "ln(mel + 1e-6)", "dct": "II-ortho", "n_mfcc": N_MFCC, "frames": N_FRAMES,
    "librosa": librosa.__version__,
}

_CHUNK = 1024  # clips per librosa call: bounds memory, same result


def mfcc(audio: np.ndarray) -> np.ndarray:
    """float32 [N, 49, 10] MFCC of float audio [N, 16000] (or one clip [16000])."""
    audio = np.asarray(audio, dtype=np.float32)
    single = audio.ndim == 1
    if single:
        audio = audio[None]
    if audio.ndim != 2 or audio.shape[1] != CLIP_SAMPLES:
        raise ValueError(f"expected audio [N, {CLIP_SAMPLES}], got {list(audio.shape)}")
    out = np.empty((len(audio), N_FRAMES, N_MFCC), dtype=np.float32)
    for i in range(0, len(audio), _CHUNK):
        mel = librosa.feature.melspectrogram(
            y=audio[i : i + _CHUNK], sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH,
            win_length=WIN_LENGTH, window="hann", center=False, power=1.0,
            n_mels=N_MELS, fmin=FMIN, fmax=FMAX, htk=True,
        )
        coeffs = librosa.feature.mfcc(S=np.log(mel + LOG_FLOOR), n_mfcc=N_MFCC, dct_type=2, norm="ortho")
        out[i : i + _CHUNK] = coeffs.transpose(0, 2, 1)
    return out[0] if single else out


@dataclass(frozen=True)
class FeatureNorm:
    """Per-coefficient mean/std, fitted on training features only.

    Stored as JSON next to a model so the device side (and the golden
    bundles) normalise exactly as training did; values are float32 so a
    JSON round trip is exact.
    """

    mean: np.ndarray  # float32 [10]
    std: np.ndarray  # float32 [10]

    @classmethod
    def fit(cls, features: np.ndarray) -> "FeatureNorm":
        f = np.asarray(features, dtype=np.float64).reshape(-1, features.shape[-1])
        std = np.maximum(f.std(axis=0), 1e-6)
        return cls(f.mean(axis=0).astype(np.float32), std.astype(np.float32))

    def apply(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {"kind": "per-coefficient", "mean": [float(v) for v in self.mean],
                "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureNorm":
        return cls(np.asarray(d["mean"], dtype=np.float32), np.asarray(d["std"], dtype=np.float32))
