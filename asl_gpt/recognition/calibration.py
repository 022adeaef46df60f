"""A user's calibration profile: the alphabet signed once, a small adapter on the model's letter evidence.

The shipped model reads each frame's handshape through a per-frame letter head (fitted on other
people's hands) before its encoder. A profile holds the user's own handshapes for some letters
(signing-hand landmarks only, never video) and an adapter fitted to them: per-frame letter logits
become `base + standardise(invariants) @ W + b`, a multinomial logistic regression that starts at
the shipped head (W = b = 0) and is fitted, with an L2 pull back to it, to the user's frames. The
encoder, decoder and confidence head are untouched (the model's `letters`/`encode_letters`
signatures carry the adjusted evidence), so a calibrated reading goes through the same gate.

Before it is used the adapter is checked on frames the fit did not see (the last third of each
letter's hold), and, where the letters' recordings are at hand, the whole recognizer reads each one
with and without it (what the user would get: text and the confidence gate). Held letters are not
words: an adapter can read every held letter better and the same letters inside words worse. So the
user may also spell a few known check words, read exactly as they would be (`WordReading`: committed
text), and the adapter's strength (its L2 pull) is chosen by them: the strongest pull of
`l2_choices` whose words read no worse than without the profile. A profile that reads its own
letters or words worse says so, is not applied, and the user is offered to discard it.
Everything here is numpy; the model runs behind the `LetterReader` / `ClipReader` / `WordReading` protocols.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.errors import InputError
from asl_gpt.words import ALPHABET as LETTERS
from asl_gpt.words import edit_totals, english_frequencies

log = logging.getLogger(__name__)

FORMAT = "asl-gpt-profile/1"
MOTION_LETTERS = "jz"  # traced, not held: every frame with the hand counts


class ProfileError(InputError):
    """A profile file that cannot be used (missing, corrupt, foreign, or made for another model)."""


@dataclass(frozen=True)
class CalibrationOptions:
    hold_s: float = 1.5  # how long each letter is held (J and Z: traced) in the guided capture
    max_motion: float = 1.5  # palm lengths per second: faster frames are moving between shapes, not holding one
    min_frames: int = 6  # fewer steady frames than this: the letter is asked again
    max_frames: int = 40  # steadiest frames kept per letter (more add nothing but fitting time)
    min_letters: int = 6  # an adapter fitted to fewer letters would pull every reading towards them
    l2: float = 0.3  # pull of the adapter's weights back to the shipped head without check words (0.01-3 tried: model card)
    # With check words, the pulls tried, the strongest (smallest) first; the first whose words read no worse than
    # the shipped model is kept. A decade apart around the default: 0.3 sharpened M/N for two signers, 3 stays
    # near the head (0.01 made transitions into letters: model card). Each fit is a fraction of a second.
    l2_choices: tuple[float, ...] = (0.3, 1.0, 3.0)
    iters: int = 300  # full-batch Adam steps (well under a second for 26 letters)
    holdout: float = 1 / 3  # the last part of each letter's frames checks the fit
    clip: float = 5.0  # standardised invariants are clipped (a frame unlike any calibration frame stays near the head)
    wrong_margin: float = 2.0  # a held letter whose base evidence favours another letter by this (log-prob) is flagged
    check_words: int = 3  # check words asked after the letters (the user may skip): enough to catch a letter read worse inside words, short enough to spell in a minute
    word_max_s: float = 10.0  # a check word's take ends after this long even if the hand stays up
    word_rest_s: float = 1.0  # ... or once the hand has been down this long after spelling (the word is done)


class LetterReader(Protocol):
    def letter_logits(self, invariants: np.ndarray) -> np.ndarray:
        """float32[N, 103] signing-hand invariants -> float32[N, n_letters] the shipped head's logits."""
        ...


class ClipReader(LetterReader, Protocol):
    """The whole recognizer (asl_gpt.recognition.recognizer.TFLiteRecognizer): what a user's reading goes through."""
    contract: object  # its min_confidence is the gate a committed reading passes

    def recognize(self, frames: np.ndarray, t_start: float = 0.0, t_end: float = 0.0, aspect: float = 1.0,
                  adapter=None):
        ...


class WordReading(Protocol):
    """How a recording of the user reads as they would get it, with or without an adapter
    (asl_gpt.recognition.pipeline.committed_reading: the app's streaming path and its confidence gate)."""

    def __call__(self, frames: np.ndarray, times_ms: np.ndarray, aspect: float, adapter: "Adapter | None") -> str:
        """float32[T, 543, 3] landmarks -> the committed text ('' when nothing passes the gate)."""
        ...


@dataclass(frozen=True)
class Adapter:
    mean: np.ndarray  # float32[103]
    std: np.ndarray  # float32[103]
    weight: np.ndarray  # float32[103, n_letters]
    bias: np.ndarray  # float32[n_letters]
    clip: float = CalibrationOptions.clip

    def apply(self, invariants: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """The user's letter logits for frames with these invariants and these base logits."""
        x = _standardise(invariants, self.mean, self.std, self.clip)
        return (logits + x @ self.weight + self.bias).astype(np.float32)


def _standardise(invariants: np.ndarray, mean: np.ndarray, std: np.ndarray, clip: float) -> np.ndarray:
    return np.clip((invariants - mean) / std, -clip, clip)


@dataclass(frozen=True)
class SelfCheck:
    base: float  # held-out frames read as their letter by the shipped head
    adapted: float  # ... and by the adapter
    frames: int  # held-out frames
    letters: int
    fit_s: float  # seconds to fit (check fit + final fit)
    clips: int = 0  # the letters' recordings read whole by the recognizer (0: none at hand, e.g. an older profile)
    clips_base: int = 0  # ... read as their letter, and confidently, by the shipped model
    clips_adapted: int = 0  # ... and with the profile
    words: int = 0  # the user's check words read as they would get them (0: none given: checked on letters only)
    words_base: float = 0.0  # their normalized Levenshtein, (letters - edits) / letters, with the shipped model
    words_adapted: float = 0.0  # ... and with the profile
    l2: float = CalibrationOptions.l2  # the adapter's pull back to the shipped head (chosen by the check words)
    read_s: float = 0.0  # seconds reading the letters' recordings and the check words (fit_s: the fits alone)

    @property
    def letters_ok(self) -> bool:
        return self.frames > 0 and self.adapted >= self.base and self.clips_adapted >= self.clips_base

    @property
    def words_ok(self) -> bool:
        return self.words_adapted >= self.words_base

    @property
    def applied(self) -> bool:
        return self.letters_ok and self.words_ok

    def describe(self) -> str:
        if self.applied:
            verdict = "applied"
        elif not self.letters_ok:
            verdict = "NOT applied: it reads your own letters worse than the shipped model; discard it and calibrate again"
        else:
            verdict = (f"NOT applied: it reads your words worse than the shipped model ({self.words_base:.2f} -> "
                       f"{self.words_adapted:.2f}, even at the weakest pull): discard it")
        clips = (f"; your letters read whole {self.clips_base} -> {self.clips_adapted} of {self.clips}"
                 if self.clips else "")
        words = (f"; your {self.words} check words read {self.words_base:.2f} -> {self.words_adapted:.2f} "
                 f"(pull {self.l2:g})" if self.words else "; checked on letters only (no check words)")
        return (f"{self.letters} letters; held-out frames read right {self.base:.0%} -> {self.adapted:.0%} "
                f"({self.frames} frames, fitted in {self.fit_s:.1f} s){clips}{words}: {verdict}")


@dataclass(frozen=True)
class Profile:
    model: str  # the model's name
    model_id: str  # fingerprint of the model file it was fitted for (asl_gpt.recognition.recognizer.fingerprint)
    samples: dict[str, np.ndarray] = field(default_factory=dict)  # letter -> float32[n, 21, 3] signing hand points
    adapter: Adapter | None = None
    check: SelfCheck | None = None
    created: float = field(default_factory=time.time)

    @property
    def letters(self) -> str:
        return "".join(sorted(self.samples))

    @property
    def missing(self) -> str:
        return "".join(c for c in LETTERS if c not in self.samples)

    @property
    def usable(self) -> bool:
        """The recognizer applies it: fitted and not worse than the shipped model on its own letters."""
        return self.adapter is not None and self.check is not None and self.check.applied

    def with_letter(self, letter: str, points: np.ndarray) -> "Profile":
        """A copy with this letter's frames (replacing any earlier take); the adapter must be refitted."""
        samples = {**self.samples, letter: np.asarray(points, np.float32)}
        return replace(self, samples=samples, adapter=None, check=None)

    def summary(self) -> str:
        state = self.check.describe() if self.check else "not fitted yet"
        return f"{len(self.samples)}/26 letters ({self.letters or 'none'}); {state}"


# --- capture: which frames of a hold are the user's handshape ------------------------------------------

def hand_points(frames: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """float32[T, 543, 3] -> float32[T, 21, 3] the signing hand (as a right hand, true proportions); NaN rows
    where it is missing."""
    return features.signing_hand_points(frames, aspect)[0]


def motion(points: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
    """float32[T]: how fast the hand moves at each frame, in palm lengths per second (inf: no hand)."""
    t = len(points)
    out = np.full(t, np.inf, np.float32)
    if t < 2:
        return out
    palm = np.linalg.norm(points[:, 9] - points[:, 0], axis=-1)
    step = np.median(np.linalg.norm(points[1:] - points[:-1], axis=-1), axis=-1)  # [T-1]
    dt = np.maximum(np.diff(np.asarray(times_ms, np.float64)) / 1000.0, 1e-3)
    speed = step / np.maximum(palm[1:], 1e-6) / dt
    speed = np.where(np.isfinite(speed), speed, np.inf)
    out[1:] = speed
    out[0] = speed[0]
    return out


def steady_indices(letter: str, points: np.ndarray, times_ms: np.ndarray,
                   options: CalibrationOptions = CalibrationOptions()) -> np.ndarray:
    """The frames of one letter's recording that show the user's handshape, in time order: for a held
    letter the steadiest `max_frames` (moving into or out of the shape is not the shape); for J and Z
    every frame with the hand."""
    present = np.isfinite(points).all(axis=(1, 2))
    if letter in MOTION_LETTERS:
        keep = np.flatnonzero(present)
    else:
        speed = motion(points, times_ms)
        keep = np.flatnonzero(present & (speed <= options.max_motion))
        if len(keep) > options.max_frames:
            keep = np.sort(keep[np.argsort(speed[keep], kind="stable")[:options.max_frames]])
    if len(keep) > options.max_frames:
        keep = keep[np.round(np.linspace(0, len(keep) - 1, options.max_frames)).astype(int)]
    return keep


@dataclass(frozen=True)
class TakeCheck:
    """What the shipped head makes of one letter's frames: a take to keep, to retake, or to flag."""
    letter: str
    frames: int
    read_as: str  # the letter the shipped head reads most often
    agreement: float  # share of frames read as the asked letter
    problem: str = ""  # "" when the take is fine; else one line for the user
    seconds: float = 0.0  # signing time of the take (the hand in view)
    missing: bool = False  # no steady hand: the letter must be asked again (nothing kept)


def check_take(letter: str, points: np.ndarray, reader: LetterReader,
               options: CalibrationOptions = CalibrationOptions()) -> TakeCheck:
    """No hand (ask again), or a handshape the shipped head reads as another letter with confidence:
    flagged, since the user may have held the wrong letter (it is kept if they say so)."""
    if len(points) < options.min_frames:
        return TakeCheck(letter, len(points), "", 0.0,
                         f"{letter.upper()}: no steady hand found ({len(points)} frames); hold it again, in view",
                         missing=True)
    logits = reader.letter_logits(features.hand_invariants(points))
    logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    mean = logp.mean(0)
    idx = LETTERS.index(letter)
    best = int(mean.argmax())
    agreement = float((logits.argmax(1) == idx).mean())
    problem = ""
    if best != idx and mean[best] - mean[idx] > options.wrong_margin:
        problem = (f"{letter.upper()}: this looks like {LETTERS[best].upper()} to the model; "
                   f"retake it, or keep it if this is how you sign {letter.upper()}")
    return TakeCheck(letter, len(points), LETTERS[best], agreement, problem)


def take_from_recording(letter: str, frames: np.ndarray, times_ms: np.ndarray, aspect: float, reader: LetterReader,
                        options: CalibrationOptions = CalibrationOptions()) -> tuple[np.ndarray, TakeCheck]:
    """One letter's recording (float32[T, 543, 3] landmarks) -> (the kept hand points, the take's check)."""
    pts = hand_points(frames, aspect)
    present = np.isfinite(pts).all(axis=(1, 2))
    t = np.asarray(times_ms, np.float64)[present]
    seconds = float(t[-1] - t[0]) / 1000.0 if len(t) > 1 else 0.0
    keep = pts[steady_indices(letter, pts, times_ms, options)]
    return keep, replace(check_take(letter, keep, reader, options), seconds=seconds)


def profile_from_recordings(recordings, reader: LetterReader, model: str, model_id: str,
                            options: CalibrationOptions = CalibrationOptions(), profile: Profile | None = None,
                            words=(), read_word: WordReading | None = None) -> tuple[Profile, list[TakeCheck]]:
    """`recordings`: (letter, frames float32[T, 543, 3], times_ms, aspect) each, one letter a recording
    (`asl-gpt calibrate --video`). Letters without a steady hand are left out (and reported); a flagged
    take is kept (recordings name their letter) and reported. `profile`: resume this one. `words`,
    `read_word`: check words (`fit_profile`)."""
    profile = profile or Profile(model, model_id)
    takes = []
    for letter, frames, times, aspect in recordings:
        pts, take = take_from_recording(letter, frames, times, aspect, reader, options)
        takes.append(take)
        if not take.missing:
            profile = profile.with_letter(letter, pts)
    clips = [(letter, frames, times, aspect) for letter, frames, times, aspect in recordings if letter in profile.samples]
    return fit_profile(profile, reader, options, clips, words, read_word), takes


# --- fitting ----------------------------------------------------------------------------------------------

def fit_adapter(invariants: np.ndarray, logits: np.ndarray, labels: np.ndarray,
                options: CalibrationOptions = CalibrationOptions()) -> Adapter:
    """Multinomial logistic regression on standardised invariants, offset by the shipped head's logits
    (so it starts at the head and only learns the user's difference), full-batch Adam with L2."""
    x = np.asarray(invariants, np.float64)
    mean, std = x.mean(0), x.std(0) + 1e-3
    x = _standardise(x, mean, std, options.clip).astype(np.float32)  # float32: the fit takes half the time
    logits = np.asarray(logits, np.float32)
    n, d = x.shape
    k = logits.shape[1]
    y = np.eye(k, dtype=np.float32)[labels]
    w, b = np.zeros((d, k), np.float32), np.zeros(k, np.float32)
    state = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in (("w", w), ("b", b))}
    lr, b1, b2 = 0.1, 0.9, 0.999
    for t in range(1, options.iters + 1):
        z = logits + x @ w + b
        z = np.exp(z - z.max(1, keepdims=True))
        g = (z / z.sum(1, keepdims=True) - y) / n  # softmax minus the one-hot labels
        for name, p, grad in (("w", w, x.T @ g + options.l2 * w), ("b", b, g.sum(0))):
            m, v = state[name]
            m *= b1
            m += (1 - b1) * grad
            v *= b2
            v += (1 - b2) * grad * grad
            p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    return Adapter(f32(mean), f32(std), f32(w), f32(b), options.clip)


def _held_out(samples: dict[str, np.ndarray], holdout: float):
    """(letter, points) per letter in order, and a bool mask over their frames: the last `holdout` of each
    letter's frames (at least one, when it has two) check the fit."""
    parts, held = sorted(samples.items()), []
    for _, pts in parts:
        n_held = max(1, int(round(len(pts) * holdout))) if len(pts) >= 2 else 0
        held.append(np.arange(len(pts)) >= len(pts) - n_held)
    return parts, np.concatenate(held)


def reading_check(reader: ClipReader, adapter: Adapter | None, clips) -> int:
    """How many of the (letter, frames, times_ms, aspect) recordings the recognizer reads right, each read whole
    (with `adapter`, or as shipped when None); right = the letter, at or above the confidence gate."""
    if not clips:
        return 0
    gate = float(getattr(reader.contract, "min_confidence", 0.0))
    right = 0
    for letter, frames, _, aspect in clips:
        h = reader.recognize(frames, aspect=aspect, adapter=adapter)
        right += h.text == letter and h.confidence >= gate
    return right


def word_score(pairs) -> float:
    """Normalized Levenshtein over (word, committed text) pairs: (letters - edits) / letters, the set's metric."""
    return edit_totals([w for w, _ in pairs], [t for _, t in pairs])[2]


def word_check(read_word: WordReading, adapter: Adapter | None, words) -> float:
    """`word_score` of the (word, frames, times_ms, aspect) recordings read as the user gets them."""
    return word_score([(w, read_word(frames, times, aspect, adapter)) for w, frames, times, aspect in words])


def _fit_checked(inv: np.ndarray, logits: np.ndarray, labels: np.ndarray, held: np.ndarray,
                 options: CalibrationOptions) -> tuple[Adapter, float, float]:
    """(the adapter fitted to every frame, held-out frames read right by the head, ... by a trial fit without them)."""
    base = adapted = 0.0
    if held.any():  # a letter with a single frame has none to spare: no check, not applied
        trial = fit_adapter(inv[~held], logits[~held], labels[~held], options)
        base = float((logits[held].argmax(1) == labels[held]).mean())
        adapted = float((trial.apply(inv[held], logits[held]).argmax(1) == labels[held]).mean())
    return fit_adapter(inv, logits, labels, options), base, adapted


def fit_profile(profile: Profile, reader: LetterReader, options: CalibrationOptions = CalibrationOptions(),
                clips=(), words=(), read_word: WordReading | None = None) -> Profile:
    """Fit the adapter to the profile's letters and check it: on held-out frames; on `clips` (the letters'
    recordings, read whole: `reading_check`) where the reader is the whole recognizer; and on `words`, the
    user's (word, frames, times_ms, aspect) check words read through `read_word` as they would get them.
    With words, each pull of `options.l2_choices` is tried, strongest first, and the first that passes every
    check is kept (none: the weakest, not applied); without, `options.l2`. With fewer than `min_letters`
    letters nothing is fitted (a partial profile is kept and can be resumed)."""
    if len(profile.samples) < options.min_letters:
        return replace(profile, adapter=None, check=None)
    if words and read_word is None:
        raise ValueError("check words need read_word: how the user's recordings read")
    parts, held = _held_out(profile.samples, options.holdout)
    inv = features.hand_invariants(np.concatenate([p for _, p in parts]))
    labels = np.concatenate([[LETTERS.index(letter)] * len(p) for letter, p in parts]).astype(np.int64)
    logits = reader.letter_logits(inv)  # the shipped head, once for every frame
    clips = list(clips) if hasattr(reader, "recognize") else []
    t0 = time.perf_counter()
    clips_base = reading_check(reader, None, clips)  # read once: the shipped model's reading never changes
    words_base = word_check(read_word, None, words) if words else 0.0
    read_s, fit_s = time.perf_counter() - t0, 0.0
    for l2 in sorted(options.l2_choices) if words else (options.l2,):
        t0 = time.perf_counter()
        adapter, base, adapted = _fit_checked(inv, logits, labels, held, replace(options, l2=l2))
        t1 = time.perf_counter()
        check = SelfCheck(base, adapted, int(held.sum()), len(profile.samples), 0.0, len(clips), clips_base,
                          reading_check(reader, adapter, clips), len(words), words_base,
                          word_check(read_word, adapter, words) if words else 0.0, l2)
        fit_s, read_s = fit_s + t1 - t0, read_s + time.perf_counter() - t1
        log.info("pull %g: %s", l2, check.describe())
        if check.applied:
            break
    check = replace(check, fit_s=fit_s, read_s=read_s)
    log.info("profile fitted: %s", check.describe())
    return replace(profile, adapter=adapter, check=check)


# --- the file ---------------------------------------------------------------------------------------------

def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write atomically (a killed writer leaves the previous profile, never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "model": profile.model, "model_id": profile.model_id, "created": profile.created,
            "letters": profile.letters,
            "check": None if profile.check is None else {
                "base": profile.check.base, "adapted": profile.check.adapted, "frames": profile.check.frames,
                "letters": profile.check.letters, "fit_s": profile.check.fit_s, "clips": profile.check.clips,
                "clips_base": profile.check.clips_base, "clips_adapted": profile.check.clips_adapted,
                "words": profile.check.words, "words_base": profile.check.words_base,
                "words_adapted": profile.check.words_adapted, "l2": profile.check.l2, "read_s": profile.check.read_s}}
    arrays = {f"hand_{k}": v.astype(np.float32) for k, v in profile.samples.items()}
    if profile.adapter is not None:
        a = profile.adapter
        arrays.update(adapter_mean=a.mean, adapter_std=a.std, adapter_weight=a.weight, adapter_bias=a.bias,
                      adapter_clip=np.float32(a.clip))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)
    return path


def load_profile(path: str | Path) -> Profile:
    """ProfileError (one line) for a missing, corrupt or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise ProfileError(f"profile not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as d:
            meta = json.loads(str(d["meta"]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                found = meta.get("format") if isinstance(meta, dict) else None
                raise ProfileError(f"{path} is not an ASL GPT profile of this version "
                                   f"(format {found!r}, expected {FORMAT!r})")
            samples = {}
            for letter in meta["letters"]:
                pts = np.asarray(d[f"hand_{letter}"], np.float32)
                if letter not in LETTERS or pts.ndim != 3 or pts.shape[1:] != (21, 3):
                    raise ValueError(f"bad frames for {letter!r}")
                samples[letter] = pts
            adapter = None
            if "adapter_weight" in d.files:
                adapter = Adapter(np.asarray(d["adapter_mean"], np.float32), np.asarray(d["adapter_std"], np.float32),
                                  np.asarray(d["adapter_weight"], np.float32), np.asarray(d["adapter_bias"], np.float32),
                                  float(d["adapter_clip"]))
                n = features.N_INVARIANTS
                if adapter.mean.shape != (n,) or adapter.weight.shape[0] != n or adapter.weight.shape[1] != len(adapter.bias):
                    raise ValueError("adapter shapes do not match")
            c = meta.get("check")
            check = _check_from(c) if c else None
            return Profile(str(meta["model"]), str(meta["model_id"]), samples, adapter, check, float(meta["created"]))
    except ProfileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as e:
        raise ProfileError(f"{path} is not a readable profile ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'corrupt'})") from None


def _check_from(c: dict) -> SelfCheck:
    """The saved self-check; a file from before a field existed loads with its default (nothing checked)."""
    d = SelfCheck(0.0, 0.0, 0, 0, 0.0)
    return SelfCheck(float(c["base"]), float(c["adapted"]), int(c["frames"]), int(c["letters"]), float(c["fit_s"]),
                     int(c.get("clips", d.clips)), int(c.get("clips_base", d.clips_base)),
                     int(c.get("clips_adapted", d.clips_adapted)), int(c.get("words", d.words)),
                     float(c.get("words_base", d.words_base)), float(c.get("words_adapted", d.words_adapted)),
                     float(c.get("l2", d.l2)), float(c.get("read_s", d.read_s)))


def check_model(profile: Profile, model_name: str, model_id: str) -> str:
    """'' when the profile was made for this model; else why it cannot be applied (one line)."""
    if profile.model_id != model_id:
        return (f"this profile was made for model {profile.model!r} ({profile.model_id[:12]}), not the loaded "
                f"{model_name!r} ({model_id[:12]}): calibrate again")
    return ""


# --- guided capture (the app's Calibrate panel and `asl-gpt calibrate --camera`) ---------------------------

@dataclass(frozen=True)
class CaptureState:
    letter: str  # the letter asked now ('' when every letter is done)
    phase: str  # "ready" (raise your hand) | "holding" | "flagged" (keep or retake) | "word" (spell it) | "done"
    progress: float  # of the current hold, 0..1
    done: str  # letters in the profile
    message: str = ""  # the last take's outcome, one line
    word: str = ""  # the check word asked now, once the letters are done ('' when none)
    words_done: int = 0  # check words recorded


COMMON_WORDS = 200  # check words come from this many most frequent candidates: words anyone spells


def check_words_for(letters: str, n: int = CalibrationOptions.check_words) -> list[str]:
    """`n` common English words of 3-4 letters spelled only with the calibrated `letters` (never J or Z, which
    are traced; no letter twice), each chosen to add the most letters the earlier ones lack (then the commonest)."""
    freq = english_frequencies()
    allowed = set(letters) - set(MOTION_LETTERS)
    pool = sorted((w for w in freq if 3 <= len(w) <= 4 and w.isascii() and w.isalpha() and set(w) <= allowed
                   and len(set(w)) == len(w)), key=lambda w: (-freq[w], w))[:COMMON_WORDS]
    chosen: list[str] = []
    for _ in range(min(n, len(pool))):
        seen = set("".join(chosen))
        chosen.append(max((w for w in pool if w not in chosen), key=lambda w: (len(set(w) - seen), freq[w], w)))
    return chosen


class GuidedCapture:
    """Asks for letters one by one from a stream of landmark frames. A hold starts when the signing hand is
    in view and is captured for `hold_s`; a take without a steady hand is asked again, one the shipped
    head reads as another letter is flagged (keep or retake). Any letter can be retaken or skipped; the
    profile so far is usable at any point (`profile`), and a saved one can be resumed.

    With `read_word` (how the user's recordings read: pipeline.committed_reading), the letters are followed
    by a few check words (`check_words_for` the calibrated letters): each take runs from the hand's rise to
    `word_rest_s` after it drops (or `word_max_s`); any word, or all of them (`skip_words`), may be skipped,
    and then the profile is checked on its letters only."""

    def __init__(self, reader: LetterReader, profile: Profile, letters: str = LETTERS,
                 options: CalibrationOptions = CalibrationOptions(), read_word: WordReading | None = None):
        self.reader, self.options, self.profile, self.read_word = reader, options, profile, read_word
        self.words: list[str] | None = None  # check words still to spell; chosen when the letters are done
        self._word_takes: list[tuple] = []  # (word, frames, times_ms, aspect), in memory only (never saved)
        self._word_frames: list[tuple[float, np.ndarray]] = []  # the word take so far (every frame since the rise)
        self._hand_ms = 0.0  # when the hand was last in view during a word take
        self.queue = [c for c in letters.lower() if c in LETTERS]
        self.message = ""
        self.last_take: TakeCheck | None = None
        self._frames: list[tuple[float, np.ndarray]] = []
        self._landmarks: list[np.ndarray] = []  # the hold's whole frames: the reading check reads each take whole
        self._aspect = 1.0
        self._take: tuple | None = None  # (frames, times_ms, aspect) of the last finished hold
        self._clips: dict[str, tuple] = {}  # letter -> its kept take, in memory only (never saved)
        self._flagged: np.ndarray | None = None
        self._start_words()

    @property
    def letter(self) -> str:
        return self.queue[0] if self.queue else ""

    @property
    def word(self) -> str:
        """The check word asked now: only once every letter is done."""
        return self.words[0] if not self.queue and self.words else ""

    def state(self) -> CaptureState:
        if self.queue:
            phase = "flagged" if self._flagged is not None else "holding" if self._frames else "ready"
        else:
            phase = "word" if self.word else "done"
        return CaptureState(self.letter, phase, self._progress(), self.profile.letters, self.message, self.word,
                            len(self._word_takes))

    def _start_words(self) -> None:
        """Once the letters are done, choose the check words (none without a reading path or a fittable profile)."""
        if self.queue or self.words is not None or self.read_word is None:
            return
        enough = len(self.profile.samples) >= self.options.min_letters
        self.words = check_words_for(self.profile.letters, self.options.check_words) if enough else []
        if self.words:
            self.message = (f"{self.message}; " if self.message else "") + (
                f"now spell {len(self.words)} short words to check the profile on ({', '.join(self.words).upper()}), "
                "or skip them")

    def _progress(self) -> float:
        if self.word and self._word_frames:
            return min(1.0, (self._word_frames[-1][0] - self._word_frames[0][0]) / 1000.0 / self.options.word_max_s)
        if len(self._frames) < 2:
            return 0.0
        return min(1.0, (self._frames[-1][0] - self._frames[0][0]) / 1000.0 / self.options.hold_s)

    def feed(self, t_ms: float, landmarks: np.ndarray, aspect: float = 1.0) -> CaptureState:
        """One frame's float32[543, 3] landmarks."""
        if self.word:
            self._feed_word(t_ms, landmarks, aspect)
            return self.state()
        if not self.queue or self._flagged is not None:
            return self.state()
        pts = hand_points(landmarks[None], aspect)[0]
        if np.isfinite(pts).all():
            self._frames.append((t_ms, pts))
            self._landmarks.append(np.asarray(landmarks, np.float32))
            self._aspect = aspect
        if self._frames and self._progress() >= 1.0:
            self._finish()
        return self.state()

    def _finish(self) -> None:
        letter = self.letter
        times = np.array([t for t, _ in self._frames])
        pts = np.stack([p for _, p in self._frames])
        self._take = (np.stack(self._landmarks), times, self._aspect)
        self._frames, self._landmarks = [], []
        keep = pts[steady_indices(letter, pts, times, self.options)]
        take = replace(check_take(letter, keep, self.reader, self.options),
                       seconds=float(times[-1] - times[0]) / 1000.0)
        self.last_take = take
        if take.missing:
            self.message = take.problem
        elif take.problem:
            self._flagged = keep
            self.message = take.problem
        else:
            self._accept(keep, f"{letter.upper()}: kept ({take.frames} frames)")

    def _feed_word(self, t_ms: float, landmarks: np.ndarray, aspect: float) -> None:
        hand = bool(np.isfinite(hand_points(landmarks[None], aspect)[0]).all())
        if not self._word_frames and not hand:
            return  # waiting for the hand to rise
        self._word_frames.append((t_ms, np.asarray(landmarks, np.float32)))
        self._aspect = aspect
        if hand:
            self._hand_ms = t_ms
        start = self._word_frames[0][0]
        if t_ms - self._hand_ms >= self.options.word_rest_s * 1000 or t_ms - start >= self.options.word_max_s * 1000:
            self._finish_word()

    def _finish_word(self) -> None:
        word, take, self._word_frames = self.word, self._word_frames, []
        frames = np.stack([f for _, f in take])
        hands = int(np.isfinite(hand_points(frames, self._aspect)).all(axis=(1, 2)).sum())
        if hands < self.options.min_frames:
            self.message = f"{word.upper()}: no steady hand found; spell it again, in view"
            return
        self._word_takes.append((word, frames, np.array([t for t, _ in take]), self._aspect))
        self.words.pop(0)
        self.message = f"{word.upper()}: recorded"

    def _accept(self, points: np.ndarray, message: str) -> None:
        self.profile = self.profile.with_letter(self.letter, points)
        if self._take is not None:
            self._clips[self.letter] = self._take
        self.queue.pop(0)
        self._flagged = None
        self.message = message
        self._start_words()

    def keep(self) -> CaptureState:
        """Keep a flagged take (this is how the user signs the letter)."""
        if self._flagged is not None:
            self._accept(self._flagged, f"{self.letter.upper()}: kept as you sign it")
        return self.state()

    def retake(self, letter: str | None = None) -> CaptureState:
        """Ask this letter (default: the current one, or the check word being spelled) again now."""
        self._frames, self._landmarks, self._flagged, self._word_frames = [], [], None, []
        if letter is None and self.word:
            self.message = f"{self.word.upper()}: again"
            return self.state()
        letter = (letter or self.letter).lower()
        if letter in LETTERS:
            if letter in self.queue:
                self.queue.remove(letter)
            self.queue.insert(0, letter)
            self.message = f"{letter.upper()}: again"
        return self.state()

    def skip(self) -> CaptureState:
        """Leave the current letter out (the shipped model keeps reading it as before), or the current check word."""
        if self.queue:
            letter = self.queue.pop(0)
            self._frames, self._landmarks, self._flagged = [], [], None
            self.message = f"{letter.upper()}: skipped"
            self._start_words()
        elif self.word:
            self._word_frames = []
            self.message = f"{self.words.pop(0).upper()}: skipped"
        return self.state()

    def skip_words(self) -> CaptureState:
        """No (more) check words: the profile is checked on the letters only."""
        if self.words:
            self.words, self._word_frames = [], []
            self.message = "check words skipped" + ("" if self._word_takes else ": the profile is checked on your letters only")
        return self.state()

    def finish(self, words=()) -> Profile:
        """The profile with its adapter fitted (and self-checked) on the letters captured so far, and on the check
        words spelled (with `words`: more (word, frames, times_ms, aspect) recordings, e.g. from files)."""
        clips = [(k, *v) for k, v in sorted(self._clips.items()) if k in self.profile.samples]
        words = self._word_takes + list(words)
        self.profile = fit_profile(self.profile, self.reader, self.options, clips, words,
                                   self.read_word if words else None)
        return self.profile


def default_profile_path(state_dir: Path, name: str = "profile") -> Path:
    return Path(state_dir) / "profiles" / f"{name}.npz"


def resolve_profile(value: str, state_dir: Path) -> Path:
    """`--profile NAME|FILE`: a path (has a folder or a suffix) as is, else a name under the state folder."""
    p = Path(value).expanduser()
    return p if (p.suffix or len(p.parts) > 1) else default_profile_path(state_dir, value)


def list_profiles(state_dir: Path) -> list[Path]:
    d = Path(state_dir) / "profiles"
    return sorted(d.glob("*.npz")) if d.is_dir() else []
