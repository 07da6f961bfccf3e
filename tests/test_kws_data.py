"""Keyword-spotting data: synthesis, loader, split by speaker, MFCC, feature cache.

Synthesis tests use a tiny set (6 clips per class, 3 voices) so the file runs
in seconds; they skip when espeak-ng is missing. Loader and MFCC tests also run
on a hand-made tree in the real Speech Commands layout, needing no espeak-ng.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from golden.data import kws, kws_synth
from golden.data.mfcc import N_FRAMES, N_MFCC, FeatureNorm, mfcc
from golden.data.speech_commands import SPLITS, load_split, speaker_of, which_set

WORDS = ["one", "two", "three", "four", "five"]
CLASSES = ["_silence_", *WORDS]
SMALL = dict(words=WORDS, clips_per_class=6, voices=("en-us", "en-gb-x-rp", "en-029"))

requires_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng not found on PATH: run `make setup` (apt-get install -y espeak-ng)",
)


def _wav_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.wav"))}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not found on PATH: run `make setup` (apt-get install -y espeak-ng)")
    root = tmp_path_factory.mktemp("kws") / "seed0"
    kws_synth.synthesize(root, seed=0, workers=2, **SMALL)
    return root


def test_missing_espeak_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    kws_synth.espeak_path.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="espeak-ng not found on PATH"):
            kws_synth.synthesize(tmp_path / "kws", **SMALL)
    finally:
        kws_synth.espeak_path.cache_clear()


@requires_espeak
def test_same_seed_same_bytes_any_worker_count(small_set, tmp_path):
    kws_synth.synthesize(tmp_path / "again", seed=0, workers=1, **SMALL)
    assert _wav_bytes(tmp_path / "again") == _wav_bytes(small_set)
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert manifest["sha256"] == kws_synth.read_manifest(small_set)["sha256"]


@requires_espeak
def test_other_seed_other_clips(small_set, tmp_path):
    kws_synth.synthesize(tmp_path / "seed1", seed=1, workers=1, **SMALL)
    a, b = _wav_bytes(small_set), _wav_bytes(tmp_path / "seed1")
    assert len(b) == len(a) == 6 * len(CLASSES)
    assert sorted(a.values()) != sorted(b.values())


@requires_espeak
def test_layout_and_format(small_set):
    manifest = kws_synth.read_manifest(small_set)
    assert manifest["complete"] and manifest["counts"] == {c: 6 for c in CLASSES}
    voices, variants = set(SMALL["voices"]), set(kws_synth.DEFAULT_VARIANTS)
    for cls in CLASSES:
        files = sorted((small_set / cls).glob("*.wav"))
        assert len(files) == 6
        for f in files:
            info = sf.info(str(f))
            assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 16000, "PCM_16")
            if cls != "_silence_":
                assert speaker_of(f) in variants


@requires_espeak
def test_spoken_clips_are_louder_than_silence(small_set):
    def rms(cls):
        return np.mean([np.sqrt(np.mean(sf.read(str(f))[0] ** 2)) for f in (small_set / cls).glob("*.wav")])

    assert all(rms(w) > 2 * rms("_silence_") for w in WORDS)


@requires_espeak
def test_existing_synthesis_is_skipped(small_set):
    before = {p: p.stat().st_mtime_ns for p in small_set.rglob("*.wav")}
    kws_synth.synthesize(small_set, seed=0, workers=2, **SMALL)
    assert {p: p.stat().st_mtime_ns for p in small_set.rglob("*.wav")} == before


@requires_espeak
def test_refuses_to_overwrite_foreign_data(tmp_path):
    (tmp_path / "one").mkdir()
    sf.write(str(tmp_path / "one" / "abcd1234_nohash_0.wav"), np.zeros(16000), 16000, subtype="PCM_16")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        kws_synth.synthesize(tmp_path, **SMALL)


@requires_espeak
def test_loader_round_trip_and_split_by_speaker(small_set):
    seen: dict[str, str] = {}
    total = 0
    for split in SPLITS:
        audio, labels, speakers = load_split(small_set, CLASSES, split)
        assert audio.dtype == np.float32 and audio.shape == (len(labels), 16000)
        assert labels.dtype == np.int64 and len(speakers) == len(labels)
        assert set(labels.tolist()) == set(range(len(CLASSES))), f"a class is missing from {split}"
        for spk in speakers:
            assert seen.setdefault(spk, split) == split, f"speaker {spk} in two splits"
            assert which_set(spk) == split
        i = 7 % len(labels)
        path = small_set / CLASSES[labels[i]] / f"{speakers[i]}_nohash_0.wav"
        np.testing.assert_array_equal(audio[i], sf.read(str(path), dtype="float32")[0])
        total += len(labels)
    assert total == 6 * len(CLASSES)


def test_held_out_speakers_and_accents_never_in_training(tmp_path):
    """Default plan: a test speaker (variant) is never heard in training, and the
    held-out accents are spoken only by validation and test speakers."""
    jobs, ids = kws_synth.plan(tmp_path, WORDS, 200, 0, kws_synth.DEFAULT_VOICES,
                               kws_synth.DEFAULT_VARIANTS)
    split_of = {spk: which_set(spk) for spk in ids["speakers"]}
    assert {s: sum(v == s for v in split_of.values()) for s in SPLITS} == \
        {"train": 58, "validation": 8, "test": 9}
    heard = {s: set() for s in SPLITS}
    for job in jobs:
        if job.text is not None:
            accent, variant = job.voice.split("+")
            split = which_set(speaker_of(job.path))
            assert variant == speaker_of(job.path)
            heard[split].add(accent)
    assert heard["train"].isdisjoint(kws_synth.HELD_OUT_VOICES)
    assert set(kws_synth.HELD_OUT_VOICES) <= heard["test"]
    # the variation the docs promise is really drawn
    spoken = [j for j in jobs if j.text is not None]
    assert 0.6 < np.mean([j.rt60_s > 0 for j in spoken]) < 0.8
    assert min(j.snr_db for j in spoken) < 0 < max(j.speed_factor for j in spoken) - 1


def test_effects_are_deterministic_and_do_what_they_say():
    from golden.data import kws_effects as fx
    rng = lambda: np.random.default_rng(3)  # noqa: E731
    np.testing.assert_array_equal(fx.background(rng(), 16000), fx.background(rng(), 16000))
    assert abs(np.sqrt(np.mean(fx.background(rng(), 16000) ** 2)) - 1) < 1e-6
    x = np.sin(2 * np.pi * 300 * np.arange(8000) / 16000)
    assert len(fx.speed(x, 1.25)) == 6400 and len(fx.speed(x, 1.0)) == 8000
    h = fx.room_impulse(rng(), 0.5, 0.0)
    assert h[0] == 1.0 and abs(np.sum(h[1:] ** 2) - 1.0) < 1e-6   # DRR 0 dB: equal energy
    assert len(fx.reverberate(x, h)) == len(x) + len(h) - 1
    low = fx.band_limit(np.random.default_rng(0).standard_normal(16000), 0, 1000)
    spec = np.abs(np.fft.rfft(low))
    assert spec[3000:].mean() < 0.05 * spec[:900].mean()   # bins are 1 Hz


def test_which_set_is_about_80_10_10():
    names = [f"{i:08x}" for i in range(4000)]
    counts = {s: sum(which_set(n) == s for n in names) for s in SPLITS}
    assert 0.77 < counts["train"] / 4000 < 0.83
    assert 0.08 < counts["validation"] / 4000 < 0.12 and 0.08 < counts["test"] / 4000 < 0.12
    assert which_set("abc_nohash_3.wav") == which_set("abc")


def _speaker_in(split: str) -> list[str]:
    return [n for n in (f"spk{i:03d}" for i in range(200)) if which_set(n) == split][:2]


@pytest.fixture
def real_layout(tmp_path) -> Path:
    """A Speech Commands v2 style tree: words + long ``_background_noise_`` files."""
    rng = np.random.default_rng(0)
    for word in ("one", "two"):
        (tmp_path / word).mkdir()
        for split in SPLITS:
            for spk in _speaker_in(split):
                n = 16000 if split != "test" else 12000  # short clips get padded
                sf.write(str(tmp_path / word / f"{spk}_nohash_0.wav"), rng.uniform(-0.5, 0.5, n),
                         16000, subtype="PCM_16")
    (tmp_path / "_background_noise_").mkdir()
    ramp = np.arange(20 * 16000, dtype=np.float32) / (20 * 16000)  # value = position
    sf.write(str(tmp_path / "_background_noise_" / "ramp.wav"), ramp, 16000, subtype="FLOAT")
    return tmp_path


def test_real_layout_background_is_cut_per_split(real_layout):
    parts = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}
    for split in SPLITS:
        audio, labels, speakers = load_split(real_layout, ["_silence_", "one", "two"], split)
        assert np.bincount(labels).tolist() == [2, 2, 2]
        silence = audio[labels == 0]
        lo, hi = parts[split]
        assert (silence >= lo - 1e-6).all() and (silence[:, -1] < hi).all()
        assert {s for s, y in zip(speakers, labels) if y == 0} == {f"_background_noise_/ramp@{split}"}
    audio, labels, _ = load_split(real_layout, ["_silence_", "one", "two"], "test")
    assert (audio[labels == 1][:, 12000:] == 0).all()


def test_missing_class_folder_names_the_path(real_layout):
    with pytest.raises(FileNotFoundError, match="three"):
        load_split(real_layout, ["one", "three"], "train")


def test_mfcc_shape_finite_and_norm_round_trip():
    rng = np.random.default_rng(0)
    audio = np.concatenate([np.zeros((1, 16000)), rng.uniform(-0.3, 0.3, (4, 16000))]).astype(np.float32)
    feats = mfcc(audio)
    assert feats.shape == (5, N_FRAMES, N_MFCC) == (5, 49, 10) and feats.dtype == np.float32
    assert np.isfinite(feats).all()
    # one clip vs a batch: the same numbers up to float32 rounding (BLAS may block a batch differently
    # on another CPU, so bit equality is not promised here; features are always computed in batches)
    np.testing.assert_allclose(mfcc(audio[1]), feats[1], rtol=1e-5, atol=1e-5)
    norm = FeatureNorm.fit(feats)
    again = FeatureNorm.from_dict(json.loads(json.dumps(norm.to_dict())))
    np.testing.assert_array_equal(again.apply(feats), norm.apply(feats))
    assert np.allclose(norm.apply(feats).reshape(-1, 10).mean(0), 0, atol=1e-4)


def test_features_of_real_layout_are_cached(real_layout, monkeypatch):
    first = kws.load_kws_features(real_layout, ["_silence_", "one", "two"])
    assert first["train"]["x"].shape == (6, 1, 49, 10) and first["train"]["x"].dtype == np.float32
    assert kws_synth.read_manifest(real_layout) is None  # real data is never re-synthesised
    monkeypatch.setattr(kws, "_compute", lambda *a: pytest.fail("cache not used"))
    second = kws.load_kws_features(real_layout, ["_silence_", "one", "two"])
    assert second["cache"] == first["cache"]
    for split in SPLITS:
        np.testing.assert_array_equal(second[split]["x"], first[split]["x"])
        np.testing.assert_array_equal(second[split]["y"], first[split]["y"])
        assert second[split]["speakers"] == first[split]["speakers"]
    assert second["norm"] == first["norm"]


@requires_espeak
def test_load_kws_features_synthesises_empty_root(tmp_path):
    data = kws.load_kws_features(tmp_path / "kws", CLASSES, seed=0, clips_per_class=6)
    assert kws_synth.read_manifest(tmp_path / "kws")["params"]["words"] == WORDS
    n = 0
    for split in SPLITS:
        x, y = data[split]["x"], data[split]["y"]
        assert x.shape == (len(y), 1, 49, 10) and np.isfinite(x).all()
        assert set(y.tolist()) == set(range(len(CLASSES)))
        n += len(y)
    assert n == 6 * len(CLASSES)
    assert set(data["test"]["speakers"]).isdisjoint(data["train"]["speakers"])
    assert Path(data["cache"]).is_file()
