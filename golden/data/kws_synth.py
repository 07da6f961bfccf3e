"""Synthesise a keyword-spotting data set with espeak-ng, laid out like Speech Commands.

Why: the real Speech Commands set cannot be downloaded on the build machines,
yet the KWS models need recordings. espeak-ng speaks every word in many English
accents (voices) and speaker variants; each clip is then made harder the way
real recordings are (`golden.data.kws_effects`: speed/pitch, microphone band,
room reverberation, background noise of several kinds at a random SNR), so
the DS-CNN lands near real Speech Commands figures (about 90-97 %) instead of
a saturated 100 % that could show no regression. Because the output uses the
Speech Commands layout, the same loader (`golden.data.speech_commands`) reads
the real data set.

Layout written under ``root``::

    <root>/<word>/<speaker>_nohash_<n>.wav     16 kHz, mono, PCM 16-bit, exactly 1 s
    <root>/_silence_/<noise-id>_nohash_<n>.wav background-only clips
    <root>/manifest.json                       parameters, counts, speakers, content digest

A *speaker* is one espeak-ng variant (``m3``, ``Gene``: its own formants and
pitch, i.e. one person); it sits before ``_nohash_`` exactly where Speech
Commands puts its speaker hash, so splitting by speaker works the same way on
both and a test speaker is never heard in training. Each clip picks an accent
(espeak-ng voice) at random; the accents in ``HELD_OUT_VOICES`` are only
spoken by validation and test speakers. Each speaker says every word several
times (``_nohash_0``, ``_nohash_1``, ...), each time with fresh parameters.

Determinism: every clip's parameters come from its own
``numpy.random.Generator`` seeded by ``(seed, crc32(class), clip index)``, the
22.05 kHz espeak-ng output is resampled with ``scipy.signal.resample_poly``
(a fixed FIR), and workers only render fully specified jobs. The same seed
therefore gives byte-identical wav files whatever the number of workers, as
long as the espeak-ng build is the same (its version is recorded in the
manifest and is part of the "same parameters" check).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from golden.data import kws_effects as fx
from golden.data.speech_commands import SILENCE, SPLITS, which_set

log = logging.getLogger(__name__)

GENERATOR = "golden.data.kws_synth"
# Bump whenever the rendering changes, so cached data sets are regenerated.
GENERATOR_VERSION = 2

SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # exactly 1 s

DEFAULT_WORDS = ("one", "two", "three", "four", "five")
# Every English dialect voice of espeak-ng 1.51 (the mbrola "mb/" voices need
# extra packages and are left out).
DEFAULT_VOICES = (
    "en-gb",
    "en-us",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-gb-x-rp",
    "en-029",
    "en-us-nyc",
)
# Accents heard only from validation and test speakers.
HELD_OUT_VOICES = ("en-us-nyc", "en-gb-x-gbcwmd")
# Variants that still sound like a person (no robots, whispers or effects;
# `edward2`/`Gene2` left out: near copies of the test speakers `edward`/`Gene`).
# Each is one speaker; the sha1 rule puts 58 in train, 8 in validation
# (f5 grandma klatt m3 m7 marcelo quincy rob) and 9 in test (Alicia ed edward
# f4 Gene Hugo m5 Marco max).
DEFAULT_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
    "adam", "Alex", "Alicia", "Andrea", "Andy", "AnxiousAndy", "Annie", "antonio", "aunty",
    "belinda", "benjamin", "boris", "david", "Denis", "Diogo", "ed", "edward", "Gene",
    "grandma", "grandpa", "gustave", "Henrique", "Hugo", "iven", "iven2", "iven3", "iven4",
    "Jacky", "john", "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6",
    "Lee", "linda", "marcelo", "Marco", "Mario", "max", "Michael", "michel", "miguel", "Mike",
    "Nguyen", "norbert", "pablo", "paul", "pedro", "quincy", "rob", "robert", "sandro",
    "shelby", "steph", "steph2", "steph3", "travis", "victor", "zac",
)
# None: every variant is a speaker.
DEFAULT_SPEAKERS: int | None = None

# Ranges of the per-clip variation (uniform unless stated).
PITCH_RANGE = (15, 85)  # espeak-ng -p, 0..99, default 50
SPEED_RANGE = (110, 240)  # espeak-ng -s, words per minute, default 175
SPEED_FACTOR = (0.88, 1.15)  # resampling after espeak-ng: tempo and pitch together
SPEECH_RMS_DBFS = (-36.0, -12.0)  # level of the spoken part
SNR_DB = (-3.0, 25.0)  # speech to background
SILENCE_RMS_DBFS = (-65.0, -25.0)  # level of silence-class clips
REVERB_PROBABILITY = 0.7
RT60_S = (0.15, 0.9)
DRR_DB = (-4.0, 12.0)  # direct-to-reverberant ratio
BAND_PROBABILITY = 0.4
BAND_LOW_HZ = (60.0, 400.0)
BAND_HIGH_HZ = (2500.0, 7000.0)
# Punctuation changes espeak-ng's intonation: statement, exclamation, question.
PUNCTUATION = ("", ".", "!", "?")
PUNCTUATION_P = (0.4, 0.25, 0.2, 0.15)

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class ClipJob:
    """Everything needed to render one clip; rendering uses nothing else."""

    path: str
    text: str | None  # None: background-only (silence class)
    voice: str = ""
    pitch: int = 50
    speed: int = 175
    level_dbfs: float = -20.0
    snr_db: float = 20.0
    shift: float = 0.5  # fraction of the free room placed before the word
    noise_seed: int = 0  # seeds the background and the room's impulse response
    speed_factor: float = 1.0
    rt60_s: float = 0.0  # 0: no reverberation
    drr_db: float = 0.0
    band_hz: tuple[float, float] = (0.0, 0.0)  # (high-pass, low-pass); 0: off


# ---------------------------------------------------------------- espeak-ng


@functools.lru_cache(maxsize=1)
def espeak_path() -> str:
    """Path of espeak-ng, or a FileNotFoundError that says how to get it."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise FileNotFoundError(
            "espeak-ng not found on PATH: run `make setup` "
            "(or `apt-get install -y espeak-ng`)"
        )
    return path


def espeak_version() -> str | None:
    """espeak-ng's version string, or None when it is not installed."""
    if shutil.which("espeak-ng") is None:
        return None
    out = subprocess.run(
        [espeak_path(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"text-to-speech:\s*(\S+)", out)
    return m.group(1) if m else out.strip()


def available_voices() -> tuple[set[str], set[str]]:
    """(voice names, variant names) espeak-ng knows.

    Checked up front because espeak-ng silently ignores an unknown variant and
    writes nothing for an unknown voice, both with exit status 0.
    """
    exe = espeak_path()
    listing = subprocess.run(
        [exe, "--voices"], capture_output=True, text=True, check=True
    ).stdout
    voices: set[str] = set()
    for line in listing.splitlines()[1:]:
        cols = line.split()
        if len(cols) > 1:
            voices.add(cols[1])
        voices.update(re.findall(r"\((\S+) \d+\)", line))
    listing = subprocess.run(
        [exe, "--voices=variant"], capture_output=True, text=True, check=True
    ).stdout
    variants = set(re.findall(r"!v/(\S+)", listing))
    return voices, variants


def _read_espeak_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Parse espeak-ng's --stdout wav (its RIFF sizes are placeholders)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError("espeak-ng did not write a wav file (unknown voice?)")
    channels = int.from_bytes(data[22:24], "little")
    rate = int.from_bytes(data[24:28], "little")
    bits = int.from_bytes(data[34:36], "little")
    at = data.find(b"data", 36)
    if channels != 1 or bits != 16 or at < 0:
        raise RuntimeError(f"unexpected espeak-ng wav: {channels} ch, {bits} bit")
    pcm = data[at + 8 :]
    pcm = pcm[: len(pcm) // 2 * 2]
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0, rate


def _speak(job: ClipJob) -> np.ndarray:
    """Run espeak-ng for one clip; float64 at 16 kHz, silence trimmed."""
    cmd = [espeak_path(), "-v", job.voice, "-p", str(job.pitch), "-s", str(job.speed),
           "--stdout", job.text]
    done = subprocess.run(cmd, capture_output=True, check=True)
    try:
        x, rate = _read_espeak_wav(done.stdout)
    except RuntimeError as e:
        raise RuntimeError(f"{e}: {' '.join(cmd)!r} said {done.stderr.decode(errors='replace')!r}") from e
    if rate != SAMPLE_RATE:
        g = np.gcd(rate, SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, rate // g)
    x = fx.speed(x, job.speed_factor)
    active = np.nonzero(np.abs(x) > 0.01 * np.max(np.abs(x), initial=1e-9))[0]
    if active.size == 0:
        raise RuntimeError(f"espeak-ng produced silence for {' '.join(cmd)!r}")
    margin = SAMPLE_RATE // 100  # keep 10 ms around the word
    return x[max(active[0] - margin, 0) : active[-1] + margin]


def _crop(x: np.ndarray, job: ClipJob) -> np.ndarray:
    if len(x) > CLIP_SAMPLES:
        log.debug("%s longer than 1 s (%d samples): cropped", job.path, len(x))
        start = (len(x) - CLIP_SAMPLES) // 2
        x = x[start : start + CLIP_SAMPLES]
    return x


# ---------------------------------------------------------------- rendering


def _db(value: float) -> float:
    return 10.0 ** (value / 20.0)


def render(job: ClipJob) -> np.ndarray:
    """The clip as int16 [16000]; a pure function of the job."""
    rng = np.random.default_rng(job.noise_seed)
    noise = fx.background(rng, CLIP_SAMPLES)
    if job.text is None:
        x = noise * _db(job.level_dbfs)
    else:
        speech = _speak(job)
        if job.band_hz != (0.0, 0.0):
            speech = fx.band_limit(speech, *job.band_hz)
        if job.rt60_s > 0:
            speech = fx.reverberate(speech, fx.room_impulse(rng, job.rt60_s, job.drr_db))
        speech = _crop(speech, job)
        rms = np.sqrt(np.mean(speech**2))
        speech *= _db(job.level_dbfs) / rms
        start = int(job.shift * (CLIP_SAMPLES - len(speech)))
        x = np.zeros(CLIP_SAMPLES)
        x[start : start + len(speech)] = speech
        x += noise * _db(job.level_dbfs - job.snr_db)
    peak = np.max(np.abs(x))
    if peak > 0.99:  # never clip: scale the whole clip down instead
        x *= 0.99 / peak
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def _render_to_file(job: ClipJob) -> str:
    sf.write(job.path, render(job), SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return job.path


# ---------------------------------------------------------------- planning


def _split_targets(n: int) -> dict[str, int]:
    """Speakers per split for n speakers: 10 % validation, 10 % test, >= 1 each."""
    if n < 3:
        log.warning("only %d speaker(s): validation and test splits will be empty", n)
        return {"train": n, "validation": 0, "test": 0}
    held = max(1, round(0.1 * n))
    return {"train": n - 2 * held, "validation": held, "test": held}


def _pick(candidates: Sequence[str], targets: dict[str, int]) -> list[str]:
    """Candidates (in the given order) that fill ``targets`` speakers per split.

    The loader splits by a hash of the speaker name, so a plain choice of
    speakers can leave a split nearly or entirely empty; choosing names by the
    split they hash to keeps 80/10/10 while the split itself stays the hash
    rule real data uses. A short bucket is made up from the other splits.
    """
    buckets: dict[str, list[str]] = {s: [] for s in SPLITS}
    for c in candidates:
        buckets[which_set(c)].append(c)
    picked = [c for s in SPLITS for c in buckets[s][: targets[s]]]
    spare = [c for c in candidates if c not in set(picked)]
    picked += spare[: sum(targets.values()) - len(picked)]
    return sorted(picked)


def _seed_for(seed: int, cls: str, n: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(cls.encode()), n])


def _speakers(variants: Sequence[str], clips_per_class: int, n_speakers: int | None,
              order: Callable[[int], np.ndarray]) -> list[str]:
    """Every variant is a speaker; a small set keeps a few, 80/10/10 by split."""
    n = min(len(variants), clips_per_class, n_speakers or len(variants))
    if n == len(variants):
        return sorted(variants)
    return _pick([variants[i] for i in order(len(variants))], _split_targets(n))


def _accents(voices: Sequence[str], held_out: Sequence[str]) -> dict[str, list[str]]:
    """Voices each split's speakers may use: held-out accents never in train."""
    train = [v for v in voices if v not in held_out]
    if not train:
        raise ValueError(f"every voice {list(voices)} is held out: training would have none")
    return {"train": train, "validation": list(voices), "test": list(voices)}


def plan(root: Path, words: Sequence[str], clips_per_class: int, seed: int,
         voices: Sequence[str], variants: Sequence[str],
         n_speakers: int | None = DEFAULT_SPEAKERS,
         held_out_voices: Sequence[str] = HELD_OUT_VOICES) -> tuple[list[ClipJob], dict]:
    """All clip jobs in a fixed order, plus the speaker lists for the manifest."""
    order = np.random.default_rng([seed, 0x5EED]).permutation
    speakers = _speakers(list(variants), clips_per_class, n_speakers, order)
    accents = _accents(voices, held_out_voices)
    # Silence gets pseudo-speakers spread over the splits like the real ones.
    targets = {s: sum(which_set(k) == s for k in speakers) for s in SPLITS}
    noise_pool = [f"noise{i:04d}" for i in range(max(4 * len(speakers), 64))]
    noise_ids = _pick([noise_pool[i] for i in order(len(noise_pool))], targets)

    jobs: list[ClipJob] = []
    for cls, ids in [(w, speakers) for w in words] + [(SILENCE, noise_ids)]:
        for n in range(clips_per_class):
            rng = _seed_for(seed, cls, n)
            spk = ids[n % len(ids)]
            path = str(root / cls / f"{spk}_nohash_{n // len(ids)}.wav")
            noise_seed = int(rng.integers(2**63))
            if cls == SILENCE:
                jobs.append(ClipJob(path, None, level_dbfs=float(rng.uniform(*SILENCE_RMS_DBFS)),
                                    noise_seed=noise_seed))
                continue
            text = cls + PUNCTUATION[rng.choice(len(PUNCTUATION), p=PUNCTUATION_P)]
            accent = accents[which_set(spk)]
            reverb = rng.random() < REVERB_PROBABILITY
            band = rng.random() < BAND_PROBABILITY
            jobs.append(ClipJob(
                path, text, voice=f"{accent[rng.integers(len(accent))]}+{spk}",
                pitch=int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
                speed=int(rng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1)),
                level_dbfs=float(rng.uniform(*SPEECH_RMS_DBFS)),
                snr_db=float(rng.uniform(*SNR_DB)),
                shift=float(rng.random()),
                noise_seed=noise_seed,
                speed_factor=round(float(rng.uniform(*SPEED_FACTOR)), 2),
                rt60_s=float(rng.uniform(*RT60_S)) if reverb else 0.0,
                drr_db=float(rng.uniform(*DRR_DB)) if reverb else 0.0,
                band_hz=(float(rng.uniform(*BAND_LOW_HZ)), float(rng.uniform(*BAND_HIGH_HZ)))
                if band else (0.0, 0.0),
            ))
    return jobs, {"speakers": speakers, "silence_ids": noise_ids, "accents": accents}


# ---------------------------------------------------------------- driver


def _params(words, clips_per_class, seed, voices, variants, speakers) -> dict:
    return {
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        "espeak_ng": espeak_version(),
        "seed": int(seed),
        "words": list(words),
        "silence_class": SILENCE,
        "clips_per_class": int(clips_per_class),
        "voices": list(voices),
        "variants": list(variants),
        "speakers": None if speakers is None else int(speakers),
        "held_out_voices": [v for v in HELD_OUT_VOICES if v in voices],
        "sample_rate": SAMPLE_RATE,
    }


def read_manifest(root: str | Path) -> dict | None:
    """The manifest written by `synthesize`, or None if there is none."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    return manifest if manifest.get("generator") == GENERATOR else None


def _write_manifest(root: Path, manifest: dict) -> None:
    tmp = root / f"manifest.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    tmp.replace(root / "manifest.json")


def _is_complete(root: Path, manifest: dict) -> bool:
    return manifest.get("complete", False) and all(
        len(list((root / cls).glob("*.wav"))) == n for cls, n in manifest["counts"].items()
    )


def _digest(jobs: Sequence[ClipJob], root: Path) -> str:
    """sha256 over (relative path, file sha256) of every clip, in job order."""
    h = hashlib.sha256()
    for job in jobs:
        p = Path(job.path)
        h.update(str(p.relative_to(root)).encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return "sha256:" + h.hexdigest()


def _clear_previous(root: Path, classes: Sequence[str]) -> None:
    """Remove wav files of an earlier synthesis (only ours: the manifest says so)."""
    manifest = read_manifest(root)
    old = set(manifest["counts"]) if manifest else set()
    for cls in set(classes) | old:
        folder = root / cls
        wavs = list(folder.glob("*.wav")) if folder.is_dir() else []
        if wavs and cls not in old:
            raise FileExistsError(
                f"{folder} already holds wav files not made by {GENERATOR} "
                "(real Speech Commands?): refusing to overwrite; pick another root"
            )
        for f in wavs:
            f.unlink()
    for f in root.glob("features_*.npz"):  # feature caches of the old clips (golden.data.kws)
        f.unlink()


def synthesize(
    root: str | Path,
    words: Sequence[str] = DEFAULT_WORDS,
    clips_per_class: int = 1000,
    seed: int = 0,
    progress: ProgressFn | None = None,
    *,
    voices: Sequence[str] = DEFAULT_VOICES,
    variants: Sequence[str] = DEFAULT_VARIANTS,
    speakers: int | None = DEFAULT_SPEAKERS,
    workers: int = 2,
) -> dict:
    """Write the data set under ``root`` and return its manifest.

    ``words`` are the spoken classes; a ``_silence_`` class with the same
    number of clips is always added. Does nothing (returns the existing
    manifest) when ``root`` already holds a complete synthesis with the same
    parameters. ``progress(done, total)`` is called as clips finish.
    """
    root = Path(root)
    words = [w for w in words if w != SILENCE]
    if clips_per_class < 1 or not words:
        raise ValueError("need at least one word and one clip per class")
    params = _params(words, clips_per_class, seed, voices, variants, speakers)
    root.mkdir(parents=True, exist_ok=True)
    # One synthesis per root at a time: several jobs may share a cache folder.
    with open(root / ".kws_synth.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _synthesize_locked(root, words, clips_per_class, seed, progress,
                                  voices, variants, speakers, workers, params)


def _synthesize_locked(root, words, clips_per_class, seed, progress, voices, variants,
                       speakers, workers, params) -> dict:
    old = read_manifest(root)
    if old is not None and _is_complete(root, old):
        have = dict(old["params"])
        if params["espeak_ng"] is None:  # cannot tell: trust a finished synthesis
            have["espeak_ng"] = None
        if have == params:
            log.info("kws synthesis in %s is up to date (seed %d): skipped", root, seed)
            return old

    known_voices, known_variants = available_voices()
    unknown = [v for v in voices if v not in known_voices] + [
        v for v in variants if v not in known_variants]
    if unknown:
        raise ValueError(f"espeak-ng does not know voice/variant {unknown}: see `espeak-ng --voices`")

    t0 = time.monotonic()
    classes = [*words, SILENCE]
    _clear_previous(root, classes)
    for cls in classes:
        (root / cls).mkdir(exist_ok=True)
    # Written first (complete: false) so an interrupted run is recognised as ours.
    _write_manifest(root, {"generator": GENERATOR, "params": params, "complete": False,
                           "counts": {cls: 0 for cls in classes}})
    jobs, ids = plan(root, words, clips_per_class, seed, voices, variants, speakers)
    log.info("synthesising %d clips (%d classes, %d speakers) into %s with %d worker(s)",
             len(jobs), len(classes), len(ids["speakers"]), root, workers)

    # Threads, not processes: the expensive part is the espeak-ng child process,
    # which runs in parallel anyway, and threads avoid the re-import of the
    # caller's __main__ that spawned workers need (and fork's hazards once
    # torch has started its threads).
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="kws-synth")
    try:
        for done, _ in enumerate(pool.map(_render_to_file, jobs), start=1):
            if progress is not None:
                progress(done, len(jobs))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # stop at the first error

    counts = {cls: clips_per_class for cls in classes}
    split_of = {s: which_set(s) for s in ids["speakers"] + ids["silence_ids"]}
    manifest = {
        "generator": GENERATOR,
        "params": params,
        "counts": counts,
        "speakers": ids["speakers"],
        "silence_ids": ids["silence_ids"],
        "speakers_per_split": {s: sum(1 for k in ids["speakers"] if split_of[k] == s) for s in SPLITS},
        "accents_per_split": ids["accents"],
        "sha256": _digest(jobs, root),
        "complete": True,
    }
    _write_manifest(root, manifest)
    log.info("kws synthesis done: %d clips in %.1f s", len(jobs), time.monotonic() - t0)
    return manifest
