"""Continuous fingerspelling landmark sequences synthesised from real static handshapes.

There is no real continuous fingerspelling data here (docs/architecture.md, "The data"), so the default model learns
from sequences built like this: a phrase is spelled by one signer's real handshapes (HandshapeBank),
each letter held then blended into the next (coarticulation: at fast rates a held shape leans toward
its neighbours and never quite settles), at 0.25-8 letters per second, with J and Z traced in the air,
doubled letters bounced or slid, word gaps, the hand rising from rest along an arc and dropping back
(passing through shapes that look like letters and are not), placed in front of the right shoulder of
a real upper body (face and pose from the real Holistic capture in seed-capture/), under random hand
size, rotation, camera distance (a far signer in a landscape frame: a hand 40-110 px tall, noisier in
palm units), aspect, frame rate, tracking jitter and dropped frames. A share of phrases is signed at pace
(pace_timing, moving_wrist, motion_blur, Synthesizer._caught_in_motion): letters of 2-4 frames, letters formed
while the wrist still travels, fingers blurred along their motion, transitions passing through the shape of
another letter near the way, which is not read.
Negatives (hands moving but not fingerspelling) teach the confidence head to stay silent.

Output frames are float32[T, 543, 3] in the competition layout with NaN for what Holistic would not
report, i.e. exactly what the runtime gets from asl_gpt.landmarks.holistic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_gpt.landmarks import layout
from asl_gpt.training.handshapes import HandshapeBank
from asl_gpt.words import ALPHABET

P = layout.point_index


@dataclass(frozen=True)
class SynthOptions:
    fps: tuple[float, float] = (15.0, 30.0)  # camera frame rate range
    letters_per_s: tuple[float, float] = (0.25, 8.0)  # a learner holding each letter 3 s .. a fluent signer
    hold_fraction: tuple[float, float] = (0.3, 0.75)  # share of a letter's time spent holding the shape
    word_pause_s: tuple[float, float] = (0.05, 0.4)  # extra hold at a word end
    hand_size: tuple[float, float] = (0.22, 0.55)  # wrist->middle MCP over shoulder width (real capture: 0.37-0.60, the hand is nearer the camera)
    camera_scale: tuple[float, float] = (0.22, 0.45)  # shoulder width over frame width (near .. far)
    roll_deg: float = 20.0  # in-plane hand rotation range (+-)
    yaw_deg: float = 25.0  # hand turn about the vertical axis (+-)
    jitter: tuple[float, float] = (0.005, 0.04)  # per-frame landmark noise, palm units
    drop_rate: tuple[float, float] = (0.0, 0.12)  # frames where the hand is not tracked
    negative_rate: float = 0.15  # share of samples that are not fingerspelling (target: empty, silent)
    rise_rate: float = 0.65  # share of phrases where the hand rises from rest first (the same, dropping after):
    #                          ordinary use starts and ends at rest; the rest start mid-air (a recording cut)
    rise_s: tuple[float, float] = (0.3, 0.9)  # time from rest to the first letter (and from the last to rest)
    rest_depth: tuple[float, float] = (1.2, 2.6)  # the rest position: wrist this many shoulder widths below the shoulders
    far_rate: float = 0.3  # share of landscape scenes with the signer far away (a small hand, 40-110 px tall)
    far_camera_scale: tuple[float, float] = (0.1, 0.2)  # shoulder width over frame width when far
    pixel_jitter: tuple[float, float] = (0.5, 2.5)  # tracking noise in pixels: a small hand is noisier in palm units
    coarticulation: float = 0.35  # at 8 letters/s a held shape is this far from the letter toward its neighbours
    left_hand_rest_rate: float = 0.5  # share with the other hand visible, resting low (real signers mostly do)
    # Signing at pace (issue 24: real misreads are letters formed on the way, not held): a share of phrases
    # where shapes are caught in motion. Drawn per phrase, then per letter / transition.
    pace_rate: float = 0.3  # share of spelled phrases (2+ letters) signed at pace, 2.5-8 letters a second
    pace_letters_per_s: tuple[float, float] = (2.5, 8.0)  # their rate (log-uniform)
    moving_hold_rate: float = 0.6  # of their letters: formed while the wrist still travels (no still frame)
    moving_hold_palms: tuple[float, float] = (0.15, 0.5)  # how far the wrist travels during such a letter, palm units
    short_letter_rate: float = 0.3  # of their letters: shown only 2-4 frames at 30 fps
    short_letter_s: tuple[float, float] = (0.067, 0.133)  # such a letter's whole time, hold and way out
    pass_through_rate: float = 0.4  # of their transitions: the hand passes through the shape of a letter near the way
    pass_through_strength: tuple[float, float] = (0.6, 1.0)  # how fully that shape forms, mid-transition
    blur: tuple[float, float] = (0.1, 0.4)  # fingertip noise along the motion, as a share of a frame's travel (motion blur)
    max_chars: int = 31  # longest phrase (the model's max_output)


@dataclass(frozen=True)
class SynthSample:
    frames: np.ndarray  # float32[T, 543, 3], NaN where not tracked
    text: str  # what was spelled ('' for a negative)
    times_ms: np.ndarray  # float64[T] frame timestamps
    char_times_ms: np.ndarray  # float64[len(text)] centre of each character's hold (spaces: the gap)
    signer: str
    kind: str  # 'spell' or a negative kind
    aspect: float = 4 / 3  # the scene's frame width / height


# Questions a user of ASL GPT might spell (lowercase, vocabulary characters only).
QUESTIONS = (
    "what is asl", "who invented asl", "what is deaf culture", "how do i sign hello", "what is fingerspelling",
    "where is gallaudet", "what is a cochlear implant", "how old is asl", "is asl universal",
    "what is an interpreter", "how do i learn asl", "what is the manual alphabet", "who is laurent clerc",
    "what is a classifier", "what is signed english", "what is deaf gain", "how do deaf people drive",
    "what is a video relay service", "what is audism", "what is a name sign", "when is deaf awareness week",
    "what is tactile signing", "what is protactile", "how many people use asl", "what is lipreading",
    "what is the ada", "why is asl not english", "what is home sign", "what is bsl", "is asl a language",
    "help", "thanks", "who are you", "what can you do", "tell me about deaf schools",
)
_COMMON = ("the a to of and in is it you that he was for on are with as i his they be at one have this from "
           "or had by hot word but what some we can out other were all there when up use your how said an "
           "each she which do their time if will way about many then them write would like so these her long "
           "make thing see him two has look more day could go come did number sound no most people my over "
           "know water than call first who may down side been now find deaf sign hand name learn school "
           "language letter question answer help where why yes").split()


def vocabulary(knowledge_dir: str | Path | None = None, limit: int = 4000) -> list[str]:
    """Words for phrases: common English plus the knowledge base's own words (when it exists)."""
    words: dict[str, int] = {w: 5 for w in _COMMON}
    if knowledge_dir and Path(knowledge_dir).is_dir():
        for f in sorted(Path(knowledge_dir).rglob("*.md")):
            for w in re.findall(r"[a-z]{2,12}", f.read_text(errors="ignore").lower()):
                words[w] = words.get(w, 0) + 1
    return [w for w, _ in sorted(words.items(), key=lambda kv: -kv[1])[:limit]]


def _smooth(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _rot(roll: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """float[T, 3, 3]: yaw about the image's vertical axis, then roll in the image plane."""
    cr, sr, cy, sy = np.cos(roll), np.sin(roll), np.cos(yaw), np.sin(yaw)
    z, o = np.zeros_like(roll), np.ones_like(roll)
    ry = np.stack([np.stack([cy, z, sy], -1), np.stack([z, o, z], -1), np.stack([-sy, z, cy], -1)], -2)
    rz = np.stack([np.stack([cr, -sr, z], -1), np.stack([sr, cr, z], -1), np.stack([z, z, o], -1)], -2)
    return rz @ ry


def _wrist_offsets(rng, text: str, letters: list, keys: list[str], t: np.ndarray, idx: np.ndarray, nxt: np.ndarray,
                   in_hold: np.ndarray, u_hold: np.ndarray, u_tr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(wrist offsets [T, 2] in palm units, extra roll [T]): per-letter position, J/Z paths, doubled-letter
    bounce/slide, a step per word."""
    n = len(letters)
    letter_pos = rng.normal(0, 0.12, (n, 2))
    offs = np.where(in_hold[:, None], letter_pos[idx], letter_pos[idx] + (letter_pos[nxt] - letter_pos[idx]) * u_tr[:, None])
    roll_extra = np.zeros_like(t)
    for k, c in enumerate(keys):
        if c in "jz":
            sel = idx == k
            s = np.where(in_hold[sel], u_hold[sel], 1.0)
            fade = np.where(in_hold[sel], 1.0, 1.0 - u_tr[sel])
            offs[sel] += _path(_J_PATH if c == "j" else _Z_PATH, s) * fade[:, None]
            if c == "j":
                roll_extra[sel] += math.radians(-50) * _smooth(s) * fade
        if k > 0 and keys[k] == keys[k - 1]:
            sel = (idx == k - 1) & ~in_hold
            if rng.random() < 0.5:
                offs[sel, 1] -= 0.25 * np.sin(np.pi * u_tr[sel])  # bounce
            else:
                offs[sel, 0] -= 0.35 * u_tr[sel]  # slide toward the signer's right
                offs[idx >= k, 0] -= 0.35 * (idx[idx >= k] >= k)
    word_no = np.cumsum([0] + [1 if text[letters[k][0] + 1:letters[k + 1][0]].count(" ") else 0 for k in range(n - 1)])
    offs[:, 0] -= 0.15 * word_no[idx]
    return offs, roll_extra


def _char_times(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """ms of each character of `text`: a letter's hold centre; a space midway between its neighbours."""
    centres = (starts + ends) / 2 * 1000.0
    char_times, k = [], 0
    for c in text:
        if c == " ":
            char_times.append((ends[k - 1] * 1000.0 + starts[k] * 1000.0) / 2)
        else:
            char_times.append(centres[k])
            k += 1
    return np.array(char_times)


# J: the pinky hooks down and toward the body; Z: the index draws a Z (both as seen by the camera,
# signer's right hand, unmirrored image: the signer's right is the image's left). Palm units.
_J_PATH = np.array([[0.0, 0.0], [0.05, 0.45], [0.3, 0.8], [0.6, 0.7]])
_Z_PATH = np.array([[0.0, 0.0], [-0.7, 0.0], [0.0, 0.6], [-0.7, 0.6]])


def _path(points: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Piecewise-linear point along `points` at progress s in [0, 1] -> float[len(s), 2]."""
    seg = (len(points) - 1) * np.clip(s, 0, 1)
    i = np.minimum(seg.astype(int), len(points) - 2)
    f = (seg - i)[:, None]
    return points[i] * (1 - f) + points[i + 1] * f


def pace_timing(rng: np.random.Generator, o: SynthOptions, holds: list[float], trans: list[float]) -> np.ndarray:
    """Short letters at pace, in place: a chosen letter lasts 2-4 frames at 30 fps in all (hold and the way out),
    and the way in is no longer than that. -> bool[n], the short letters."""
    n = len(holds)
    short = rng.random(n) < o.short_letter_rate
    for k in np.flatnonzero(short):
        d = rng.uniform(*o.short_letter_s)
        holds[k] = d * rng.uniform(0.1, 0.4)  # barely formed: the hand is on its way again
        trans[k] = d - holds[k]
        if k > 0:
            trans[k - 1] = min(trans[k - 1], d)
    return short


def moving_wrist(rng: np.random.Generator, o: SynthOptions, idx: np.ndarray, in_hold: np.ndarray,
                 t: np.ndarray) -> np.ndarray:
    """Wrist travel [T, 2] (palm units) for letters formed while the wrist still moves: during a chosen letter's
    hold the wrist goes on at a steady speed, so no frame of it is still; the travel is kept after it (continuous)."""
    n = int(idx.max()) + 1 if len(idx) else 0
    moving = rng.random(n) < o.moving_hold_rate
    ang = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(*o.moving_hold_palms, n) * moving
    step = np.stack([np.cos(ang), np.sin(ang)], -1) * dist[:, None]  # [n, 2] travel over each hold
    held = np.zeros(n)
    np.add.at(held, idx[in_hold], np.diff(t, prepend=t[0])[in_hold])  # each letter's hold time on this timeline
    v = step / np.maximum(held, 1e-6)[:, None]  # palm units a second
    dt = np.diff(t, prepend=t[0])
    vel = np.where(in_hold[:, None], v[idx], 0.0)
    return np.cumsum(vel * dt[:, None], axis=0)


def motion_blur(rng: np.random.Generator, o: SynthOptions, shape: np.ndarray, t: np.ndarray, fps: float) -> None:
    """Fast fingers blur, in place: each finger point moves by noise along its own motion, a random share of what
    it travels in one camera frame (the tracker lands anywhere on the smear). The wrist (point 0) is left."""
    if len(t) < 2:
        return
    vel = np.gradient(shape, t, axis=0)  # [T, 21, 3] palm units a second
    k = rng.uniform(*o.blur) * rng.normal(0, 1, (len(t), shape.shape[1], 1))
    blur = vel / fps * k
    blur[:, 0] = 0.0
    shape += blur.astype(shape.dtype)


class Synthesizer:
    """`sample(rng)` -> SynthSample. Vectorised numpy: a few ms a phrase."""

    def __init__(self, bank: HandshapeBank, body_frames: np.ndarray, options: SynthOptions = SynthOptions(),
                 words: list[str] | None = None):
        self.bank, self.o = bank, options
        self.by_signer = bank.index()
        self.signers = sorted(self.by_signer)
        # each signer's mean shape per letter: what a transition passes near (pass-through at pace)
        self.means = {sg: {c: bank.shapes[rows].mean(0) for c, rows in by.items() if len(rows)}
                      for sg, by in self.by_signer.items()}
        self.words = words or list(_COMMON)
        # Real face + pose, hands removed; coordinates as captured (0..1 of a 4:3 frame).
        body = np.array(body_frames, dtype=np.float32)
        body[:, layout.LEFT_HAND] = np.nan
        body[:, layout.RIGHT_HAND] = np.nan
        self.body = body

    # --- phrases ---------------------------------------------------------------------------------
    def phrase(self, rng: np.random.Generator, signer: str) -> str:
        have = set(self.by_signer[signer])
        r = rng.random()
        # few fixed questions and many random letter strings: the decoder must read, not recite
        if r < 0.10:
            text = QUESTIONS[rng.integers(len(QUESTIONS))]
        elif r < 0.5:
            text = " ".join(self.words[int(rng.integers(len(self.words)) * rng.random())]  # favour frequent
                            for _ in range(int(rng.integers(1, 5))))
        elif r < 0.8:  # random letters: the model must read handshapes, not guess words
            chars = [c for c in ALPHABET if c in have]
            text = "".join(rng.choice(chars, size=int(rng.integers(1, 9))))
        elif r < 0.92:  # one letter, often held long (a learner checking a handshape, "I", an initial)
            text = str(rng.choice([c for c in ALPHABET if c in have]))
        else:
            digits = [c for c in "0123456789" if c in have]
            w = self.words[int(rng.integers(min(len(self.words), 300)))]
            text = w + (" " + "".join(rng.choice(digits, size=int(rng.integers(1, 4)))) if digits else "")
        text = "".join(c for c in text if c == " " or c in have)
        text = re.sub(" +", " ", text).strip()[: self.o.max_chars].strip()
        return text or "a"

    # --- one sample --------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, text: str | None = None, signer: str | None = None,
               negative: bool | None = None) -> SynthSample:
        o = self.o
        signer = signer or self.signers[int(rng.integers(len(self.signers)))]
        if negative is None:
            negative = text is None and rng.random() < o.negative_rate
        if not negative and text is None:
            text = self.phrase(rng, signer)
        fps = rng.uniform(*o.fps)
        scene = self._scene(rng)
        if negative:
            kind = ("wander", "two_hands", "resting")[int(rng.integers(3))]
            t, right, left = self._negative(rng, kind, signer, scene)
            text, char_times = "", np.zeros(0)
        else:
            kind = "spell"
            t, right, char_times = self._spell(rng, text, signer, scene, fps)
            left = self._resting_left(rng, signer, scene, len(t)) if rng.random() < o.left_hand_rest_rate else None
        times = self._frame_times(rng, t[-1], fps)
        frames = self._render(rng, scene, t, times, right, left)
        if negative and not np.isfinite(frames[:, layout.RIGHT_HAND, 0]).any():
            return self.sample(rng, signer=signer, negative=True)  # out of view: the runtime would never decode it
        return SynthSample(frames, text, times, char_times, signer, kind, scene["wh"][0] / scene["wh"][1])

    def _scene(self, rng) -> dict:
        o = self.o
        w, h = ((640.0, 480.0), (1280.0, 720.0), (720.0, 1280.0))[int(rng.integers(3))]  # webcams and phones
        far = w > h and rng.random() < o.far_rate  # a laptop on a desk, the signer sitting back: a small hand
        sw = rng.uniform(*(o.far_camera_scale if far else o.camera_scale)) * min(w, h * 4 / 3)  # shoulder width in pixels
        centre = np.array([rng.uniform(0.4, 0.6) * w, rng.uniform(0.45, 0.75) * h])  # shoulders' midpoint
        return {"wh": (w, h), "sw": sw, "centre": centre, "palm": rng.uniform(*o.hand_size) * sw,
                "roll": math.radians(rng.uniform(-o.roll_deg, o.roll_deg)),
                "yaw": math.radians(rng.uniform(-o.yaw_deg, o.yaw_deg)),
                "anchor": np.array([rng.uniform(-0.35, 0.15), rng.uniform(-0.3, 0.4)]),  # wrist from right shoulder, in sw
                "rest": np.array([rng.uniform(-0.2, 0.5), rng.uniform(*o.rest_depth)]),  # wrist at rest, from the right shoulder, in sw
                "body_start": int(rng.integers(len(self.body))), "body_roll": math.radians(rng.uniform(-6, 6))}

    def _pick(self, rng, signer: str, label: str) -> np.ndarray:
        rows = self.by_signer[signer].get(label)
        if rows is None or not len(rows):  # a label this signer lacks: borrow from any signer
            rows = np.flatnonzero(self.bank.labels == label)
        return self.bank.shapes[rows[int(rng.integers(len(rows)))]]

    def _spell(self, rng, text: str, signer: str, scene: dict, fps: float):
        """Timeline of the right hand: (t seconds[T], dict of per-frame arrays, char centres ms)."""
        o = self.o
        lo, hi = np.log(o.letters_per_s)
        if len(text) == 1:  # a letter alone is mostly held: shown, checked, or an initial
            hi = lo + (hi - lo) * 0.4
        letters = [(i, c) for i, c in enumerate(text) if c != " "]
        pace = o.pace_rate > 0 and len(letters) > 1 and rng.random() < o.pace_rate  # (no draw when off: same stream)
        if pace:
            lo, hi = np.log(o.pace_letters_per_s)
        rate = math.exp(rng.uniform(lo, hi))  # log-uniform: learners' pace is as common as fluent
        hold_frac = rng.uniform(*o.hold_fraction)
        keys, holds, trans = [], [], []
        for k, (i, c) in enumerate(letters):
            d = rng.uniform(0.75, 1.3) / rate
            hold = d * hold_frac * (1.6 if c in "jz" else 1.0)
            if i + 1 < len(text) and text[i + 1] == " ":
                hold += rng.uniform(*o.word_pause_s)
            keys.append(c)
            holds.append(hold)
            trans.append(d * (1 - hold_frac))
        if pace:
            pace_timing(rng, o, holds, trans)
        # a rise from rest before the first letter and a drop to rest after the last, or not: a recording or a
        # segment may start and end with the hand already up, so the rise must not be what says "spelling"
        rises, drops = rng.random() < o.rise_rate, rng.random() < o.rise_rate
        lead_in = rng.uniform(*o.rise_s) if rises else rng.uniform(0.1, 0.4)
        lead_out = rng.uniform(*o.rise_s) if drops else rng.uniform(0.1, 0.4)
        starts = lead_in + np.concatenate([[0.0], np.cumsum(np.array(holds) + np.array(trans))[:-1]])
        ends = starts + np.array(holds)
        total = ends[-1] + lead_out
        t = np.arange(0.0, total, 1.0 / (fps * 2))  # dense timeline, sampled at frame times later
        n = len(letters)
        # per-letter shapes: start and end of the hold differ a little (a real hand is never still)
        s0 = np.stack([self._pick(rng, signer, c) for c in keys])
        s1 = np.stack([s0[k] if rng.random() < 0.5 else self._pick(rng, signer, keys[k]) for k in range(n)])
        s1 = s0 + (s1 - s0) * 0.3
        # coarticulation: at speed a letter is rarely fully formed; its held shape leans toward its neighbours
        lean = o.coarticulation * float(np.clip((rate - 2.0) / 6.0, 0.0, 1.0))
        if lean > 0 and n > 1:
            s0[1:] += (s1[:-1] - s0[1:]) * (lean * rng.uniform(0, 1, (n - 1, 1, 1)))
            s1[:-1] += (s0[1:] - s1[:-1]) * (lean * rng.uniform(0, 1, (n - 1, 1, 1)))
        for k in range(1, n):
            if keys[k] == keys[k - 1]:  # doubled letter: the same shape, moved
                s0[k], s1[k] = s1[k - 1], s1[k - 1]
        idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, n - 1)
        in_hold = t <= ends[idx]
        u_hold = np.clip((t - starts[idx]) / np.maximum(ends[idx] - starts[idx], 1e-6), 0, 1)
        nxt = np.minimum(idx + 1, n - 1)
        gap = np.where(idx + 1 < n, starts[nxt] - ends[idx], lead_out)
        u_tr = _smooth((t - ends[idx]) / np.maximum(gap, 1e-6))
        a = s0[idx] + (s1[idx] - s0[idx]) * u_hold[:, None, None]
        shape = np.where(in_hold[:, None, None], a, s1[idx] + (s0[nxt] - s1[idx]) * u_tr[:, None, None])
        offs, roll_extra = _wrist_offsets(rng, text, letters, keys, t, idx, nxt, in_hold, u_hold, u_tr)
        if pace:
            self._caught_in_motion(rng, signer, keys, t, idx, in_hold, u_tr, shape, offs, fps)
        if rises:
            self._to_rest(rng, signer, scene, t < lead_in, 1.0 - t / lead_in, shape, offs, roll_extra)
        if drops:
            self._to_rest(rng, signer, scene, t > ends[-1], (t - ends[-1]) / (total - ends[-1]), shape, offs, roll_extra)
        visible = np.ones(len(t), bool)  # out of view only where the rest is below the frame (_render)
        hand = {"shape": shape, "offset": offs, "roll": roll_extra, "visible": visible, "wander": None}
        return t, hand, _char_times(text, starts, ends)

    def _caught_in_motion(self, rng, signer: str, keys: list[str], t: np.ndarray, idx: np.ndarray,
                          in_hold: np.ndarray, u_tr: np.ndarray, shape: np.ndarray, offs: np.ndarray, fps: float) -> None:
        """Signing at pace, in place: transitions pass through the shape of a letter near the way (it must not be
        read), letters are formed while the wrist still travels, and fast fingers blur (tracking noise along
        their motion)."""
        o, n = self.o, len(keys)
        for k in range(n - 1):
            if keys[k] == keys[k + 1] or rng.random() >= o.pass_through_rate:
                continue
            sel = (idx == k) & ~in_hold
            if not sel.any():
                continue
            via = self._near_the_way(rng, signer, keys[k], keys[k + 1], shape[sel][len(shape[sel]) // 2])
            if via is not None:
                w = rng.uniform(*o.pass_through_strength) * np.sin(np.pi * u_tr[sel]) ** 2
                shape[sel] += (via - shape[sel]) * w[:, None, None]
        offs += moving_wrist(rng, o, idx, in_hold, t)
        motion_blur(rng, o, shape, t, fps)

    def _near_the_way(self, rng, signer: str, a: str, b: str, mid: np.ndarray) -> np.ndarray | None:
        """A real shape of the letter (not a or b) whose mean is nearest `mid`, the midpoint of a transition."""
        means = {c: m for c, m in self.means[signer].items() if c not in (a, b) and c in ALPHABET}
        if not means:
            return None
        near = min(means, key=lambda c: float(np.square(means[c] - mid).sum()))
        return self._pick(rng, signer, near)

    def _to_rest(self, rng, signer: str, scene: dict, sel: np.ndarray, away: np.ndarray, shape: np.ndarray,
                 offs: np.ndarray, roll: np.ndarray) -> None:
        """Move the hand between rest and signing space in place: on the frames `sel`, `away` runs from 0 (at the
        letter) to 1 (at rest). The wrist travels an arc (the elbow unfolds: out to the side, then down), the
        forearm turns, and the shape passes through two other handshapes of the signer: on the way a hand
        shows shapes that look like letters and are not, and it is formed only on arrival."""
        if not sel.any():
            return
        a = np.clip(away[sel], 0.0, 1.0)
        u = _smooth(a)
        rest = (scene["rest"] - scene["anchor"]) * scene["sw"] / scene["palm"]  # palm units from the letter's place
        bulge = rng.uniform(0.3, 1.2) * np.sin(np.pi * u) * np.sign(rest[0] or 1.0)
        offs[sel] += u[:, None] * rest[None, :] + np.stack([bulge, np.zeros_like(u)], -1)
        roll[sel] += rng.uniform(-0.9, 0.9) * u
        labels = sorted(self.by_signer[signer])
        mid, relaxed = (self._pick(rng, signer, labels[int(rng.integers(len(labels)))]) for _ in range(2))
        formed = _smooth(np.clip((a - 0.1) / 0.5, 0, 1))[:, None, None]  # 0 near the letter, 1 from 60 % of the way
        far = _smooth(np.clip((a - 0.5) / 0.5, 0, 1))[:, None, None]
        passing = mid + (relaxed - mid) * far
        shape[sel] = shape[sel] + (passing - shape[sel]) * formed

    def _negative(self, rng, kind: str, signer: str, scene: dict):
        """Hands moving without fingerspelling: wandering arms, two-handed motion, hands at rest."""
        dur = rng.uniform(1.0, 5.0)
        t = np.arange(0.0, dur, 1.0 / 60)
        labels = sorted(self.by_signer[signer])
        n_keys = int(rng.integers(2, 7))
        shapes = np.stack([self._pick(rng, signer, labels[int(rng.integers(len(labels)))]) for _ in range(n_keys)])
        shapes = shapes + rng.normal(0, 0.25, shapes.shape).astype(np.float32)  # not a clean letter
        kt = np.sort(rng.uniform(0, dur, n_keys))
        j = np.clip(np.searchsorted(kt, t) - 1, 0, n_keys - 2) if n_keys > 1 else np.zeros(len(t), int)
        u = _smooth((t - kt[j]) / np.maximum(kt[np.minimum(j + 1, n_keys - 1)] - kt[j], 1e-6))[:, None, None]
        shape = shapes[j] + (shapes[np.minimum(j + 1, n_keys - 1)] - shapes[j]) * u
        amp = {"wander": 3.0, "two_hands": 2.5, "resting": 0.3}[kind]
        pts = rng.normal(0, amp, (n_keys, 2))
        if kind == "resting":
            pts[:, 1] += rng.uniform(0.4, 0.8) * scene["sw"] / scene["palm"]  # low, toward the waist
        offs = pts[j] + (pts[np.minimum(j + 1, n_keys - 1)] - pts[j]) * u[:, 0]
        right = {"shape": shape, "offset": offs, "roll": rng.normal(0, 0.3) * np.sin(t * rng.uniform(1, 4)),
                 "visible": np.ones(len(t), bool), "wander": None}
        left = None
        if kind == "two_hands" or (kind == "resting" and rng.random() < 0.5):
            mirror = rng.random() < 0.6
            loffs = offs * np.array([-1.0, 1.0]) if mirror else rng.normal(0, amp, 2) + offs[::-1]
            left = {"shape": shape if mirror else shape[::-1], "offset": loffs, "roll": -right["roll"],
                    "visible": np.ones(len(t), bool)}
        return t, right, left

    def _resting_left(self, rng, signer: str, scene: dict, n: int) -> dict:
        labels = sorted(self.by_signer[signer])
        shape = np.repeat(self._pick(rng, signer, labels[int(rng.integers(len(labels)))])[None], n, 0)
        offs = np.tile([rng.uniform(-0.5, 0.5), rng.uniform(3.5, 5.0)], (n, 1)) + rng.normal(0, 0.03, (n, 2))
        return {"shape": shape, "offset": offs, "roll": np.zeros(n), "visible": np.ones(n, bool)}

    def _frame_times(self, rng, duration: float, fps: float) -> np.ndarray:
        """Camera timestamps: nominal fps with jitter; some frames lost (a longer gap)."""
        n = max(2, int(duration * fps))
        gaps = (1.0 / fps) * rng.uniform(0.9, 1.1, n)
        gaps[rng.random(n) < rng.uniform(0, 0.05)] *= 2
        times = np.concatenate([[0.0], np.cumsum(gaps)[:-1]])
        return times[times <= duration] * 1000.0

    # --- rendering -------------------------------------------------------------------------------
    def _render(self, rng, scene: dict, t: np.ndarray, times_ms: np.ndarray, right: dict, left: dict | None):
        o = self.o
        ti = np.clip(np.searchsorted(t, times_ms / 1000.0), 0, len(t) - 1)  # nearest dense step
        n = len(ti)
        w, h = scene["wh"]
        # body: real capture frames played from a random start, moved to this scene's framing
        b = self.body[(scene["body_start"] + np.arange(n)) % len(self.body)].copy()
        px = b[..., :2] * np.array([640.0, 480.0], np.float32)
        ls, rs = px[:, P("pose", 11)], px[:, P("pose", 12)]
        seed_centre = ((ls + rs) / 2).mean(0)
        seed_sw = np.linalg.norm(ls - rs, axis=-1).mean()
        k = scene["sw"] / max(seed_sw, 1e-6)
        c, s = math.cos(scene["body_roll"]), math.sin(scene["body_roll"])
        px = ((px - seed_centre) @ np.array([[c, s], [-s, c]], np.float32)) * k + scene["centre"]
        b[..., 0], b[..., 1] = px[..., 0] / w, px[..., 1] / h
        shoulder_r = px[:, P("pose", 12)]
        palm, sw = scene["palm"], scene["sw"]
        drift = np.stack([np.sin(t[ti] * rng.uniform(0.5, 2) + rng.uniform(0, 6)),
                          np.sin(t[ti] * rng.uniform(0.5, 2) + rng.uniform(0, 6))], -1) * 0.04 * sw
        jit = max(rng.uniform(*o.jitter), rng.uniform(*o.pixel_jitter) / palm)  # palm units
        for side, hand in (("right", right), ("left", left)):
            if hand is None:
                continue
            shape = hand["shape"][ti].astype(np.float64)
            if side == "left":
                shape = shape * np.array([-1.0, 1.0, 1.0])  # a left hand is a mirrored right hand
            roll = scene["roll"] * (1 if side == "right" else -1) + hand["roll"][ti]
            rot = _rot(roll, np.full(n, scene["yaw"] * (1 if side == "right" else -1)))
            pts = np.einsum("tij,tpj->tpi", rot, shape) * palm  # [n, 21, 3] pixels
            # the left hand mirrors the right's place about the body (its shoulder is one width along)
            anchor_sw = scene["anchor"] if side == "right" else scene["anchor"] * np.array([-1.0, 1.0]) + np.array([1.0, 0.0])
            wrist = shoulder_r + anchor_sw * sw + hand["offset"][ti] * palm + drift
            pts[..., :2] += wrist[:, None, :]
            pts += rng.normal(0, jit * palm, pts.shape)  # tracking jitter
            pts[..., 2] -= pts[:, :1, 2]  # Holistic hand z is relative to the wrist
            xyz = np.empty_like(pts)
            xyz[..., 0], xyz[..., 1], xyz[..., 2] = pts[..., 0] / w, pts[..., 1] / h, pts[..., 2] / w
            visible = hand["visible"][ti] & (rng.random(n) >= rng.uniform(*o.drop_rate))
            visible &= (xyz[:, 0, 1] < 1.05) & (xyz[:, 9, 1] < 1.0)  # below the frame: not tracked
            xyz[~visible] = np.nan
            part = layout.RIGHT_HAND if side == "right" else layout.LEFT_HAND
            b[:, part] = xyz.astype(np.float32)
            # the pose model's own wrist, elbow and hand points follow the hand
            pw, pe = (16, 14) if side == "right" else (15, 13)
            tips = {18: 17, 20: 5, 22: 2} if side == "right" else {17: 17, 19: 5, 21: 2}
            wz = b[:, P("pose", pw), 2].copy()
            b[:, P("pose", pw), 0], b[:, P("pose", pw), 1] = wrist[:, 0] / w, wrist[:, 1] / h
            elbow = wrist + np.array([-0.35 if side == "right" else 0.35, 1.0]) * sw * 0.9
            b[:, P("pose", pe), 0], b[:, P("pose", pe), 1] = elbow[:, 0] / w, elbow[:, 1] / h
            for pi, hi in tips.items():
                b[:, P("pose", pi), 0] = (pts[:, hi, 0]) / w
                b[:, P("pose", pi), 1] = (pts[:, hi, 1]) / h
                b[:, P("pose", pi), 2] = wz
        return b.astype(np.float32)


def load_body_frames(data_dir: str | Path) -> np.ndarray:
    """The real Holistic capture's frames float32[T, 543, 3] (face and pose are what the synthesiser uses)."""
    from asl_gpt.landmarks.io import read_parquet  # the wide competition layout

    return read_parquet(Path(data_dir) / "seed-capture" / "output_landmarks.parquet")
