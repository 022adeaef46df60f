"""The tests' fakes, in one place: a recognizer, an extractor, a clock, the app's services and assistant,
and embeddings. Unit tests only: the product never runs on a fake (docs/architecture.md, principle 6). conftest.py offers
the common ones as fixtures; tests that subclass one import it from here (`from fakes import ...`)."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from langchain_core.embeddings import Embeddings

from asl_gpt.config import PathsConfig, RecognizerConfig, Settings
from asl_gpt.errors import InputError
from asl_gpt.landmarks import layout
from asl_gpt.rag.correction import tokenize
from asl_gpt.recognition.recognizer import Hypothesis
from asl_gpt.words import ALPHABET


# -- frames and landmarks ---------------------------------------------------------------------------
def landmarks(hand: bool) -> np.ndarray:
    """One frame's float32[543, 3] landmarks: a right hand somewhere in the middle, or nothing."""
    lm = layout.empty_frames(1)[0]
    if hand:
        start = layout.OFFSETS["right_hand"]
        lm[start:start + 21] = np.random.default_rng(0).uniform(0.3, 0.7, (21, 3)).astype(np.float32)
    return lm


def frame(hand: bool) -> np.ndarray:
    """A small uint8 RGB frame; FakeExtractor finds a hand in it when its top-left pixel is bright."""
    img = np.zeros((48, 64, 3), np.uint8)
    if hand:
        img[0, 0] = 255
    return img


class FakeExtractor:
    """A frame whose top-left pixel is bright has a hand in it."""

    def __call__(self, rgb):
        return landmarks(bool(rgb[0, 0, 0] > 127))

    def close(self):
        pass


# -- recognizers --------------------------------------------------------------------------------------
@dataclass
class FakeRecognizer:
    """Reads every segment as the same text at the same confidence."""

    text: str = "hello"
    confidence: float = 0.9

    def __post_init__(self):
        self.contract = SimpleNamespace(min_confidence=0.5, name="fake")

    def recognize(self, frames, t_start=0.0, t_end=0.0):
        return Hypothesis(self.text, self.confidence, t_start, t_end)


class LetterRecognizer:
    """Spells one letter per 5 hand frames it is given; optionally slow."""

    def __init__(self, delay_s: float = 0.0, confidence: float = 0.9):
        from asl_gpt.recognition.contract import ModelContract
        from asl_gpt.recognition.features import hand_columns

        self.contract = ModelContract("fake", hand_columns(), 32, 8, min_confidence=0.5)
        self.delay_s, self.confidence, self.calls = delay_s, confidence, []

    def recognize(self, frames, t_start=0.0, t_end=0.0):
        self.calls.append(len(frames))
        time.sleep(self.delay_s)
        n = int(np.isfinite(frames[:, layout.RIGHT_HAND, 0]).any(axis=1).sum())
        return Hypothesis("abcdefghij"[: n // 5], self.confidence, t_start, t_end)


class ShapeReader:
    """Reads, in order, the letters whose exact shapes the signing hand holds for `min_frames` frames in a row
    (`shapes`: letter -> float[21, 3] right-hand points in true proportions); any other shape reads nothing.
    It reads whatever frames it is given, so what it commits shows what the gates let through."""

    def __init__(self, shapes: dict, min_frames: int = 3, confidence: float = 0.9):
        from asl_gpt.recognition import features
        from asl_gpt.recognition.contract import ModelContract

        self.contract = ModelContract("fake", features.hand_columns(), 32, 8, min_confidence=0.5)
        self.letters = list(shapes)
        self.protos = features.hand_invariants(np.stack([shapes[c] for c in self.letters]))
        self.min_frames, self.confidence = min_frames, confidence

    def recognize(self, frames, t_start=0.0, t_end=0.0):
        from asl_gpt.recognition import features

        pts, _ = features.signing_hand_points(frames, 1.0)
        inv = features.hand_invariants(pts)
        text, run, last = "", 0, None
        for v in inv:
            d = np.abs(self.protos - v).max(axis=1) if np.isfinite(v).all() else np.full(len(self.letters), np.inf)
            c = self.letters[int(d.argmin())] if d.min() < 1e-3 else None
            run = run + 1 if c == last else 1
            last = c
            if c is not None and run == self.min_frames:
                text += c
        return Hypothesis(text, self.confidence, t_start, t_end)


# -- calibration ---------------------------------------------------------------------------------------
class LinearReader:
    """A stand-in letter head: logits are a fixed linear map of the invariants (no weights needed)."""

    def __init__(self, seed: int = 0):
        from asl_gpt.recognition import features

        self.w = 0.1 * np.random.default_rng(seed).normal(size=(features.N_INVARIANTS, 26)).astype(np.float32)

    def letter_logits(self, invariants):
        return (np.asarray(invariants, np.float32) @ self.w).astype(np.float32)


class ClipReader(LinearReader):
    """A whole recognizer whose reading of a clip is scripted: with the adapter it reads only `adapted_right`."""
    class contract:  # noqa: N801
        min_confidence = 0.5

    def __init__(self, adapted_right: str):
        super().__init__()
        self.adapted_right = adapted_right

    def recognize(self, frames, t_start=0.0, t_end=0.0, aspect=1.0, adapter=None):
        from types import SimpleNamespace

        # the clip's letter is written into its first value (a test's convention)
        letter = chr(int(frames[0, 0, 0]))
        right = adapter is None or letter in self.adapted_right
        return SimpleNamespace(text=letter if right else "x", confidence=0.9)


def hand_take(rng, shape, noise=0.02):
    """A right hand: a fixed random shape (21 points) plus noise, wrist at the origin."""
    return (shape + rng.normal(scale=noise, size=shape.shape)).astype(np.float32)


def letter_shapes(seed=0):
    """A random 21-point handshape per letter."""
    rng = np.random.default_rng(seed)
    return {c: rng.normal(size=(21, 3)).astype(np.float32) for c in ALPHABET}


def toy_profile(n=12, seed=1, letters=ALPHABET):
    """A calibration profile of `n` takes of each of `letters`, for a model named "toy"."""
    from asl_gpt.recognition import calibration as cal

    rng, shapes = np.random.default_rng(seed), letter_shapes()
    p = cal.Profile("toy", "abc123")
    for c in letters:
        p = p.with_letter(c, np.stack([hand_take(rng, shapes[c]) for _ in range(n)]))
    return p


# -- time and the live session ------------------------------------------------------------------------
class FakeClock:
    """The clock a LiveSession is given: time moves only when the test says (`advance`)."""

    def __init__(self, t: float = 100.0):
        self.t = t
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def advance(self, s: float) -> None:
        with self._lock:
            self.t += s


def wait(predicate, timeout_s: float = 5.0, every_s: float = 0.005, sleep=time.sleep):
    """Call `predicate` (real time: another thread does the work) until it returns something true, and return
    that; fail after `timeout_s`. The one polling loop of the tests: a predicate may act too (feed a frame).
    `sleep`: how to pass the time between calls (a browser test passes `on_page(page)`, so the page goes on)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {getattr(predicate, '__qualname__', predicate)}")
        sleep(every_s)


def sample(read, seconds: float, every_s: float = 0.1, sleep=time.sleep) -> list:
    """What `read()` returns every `every_s` for `seconds` (real time): for what must *stay* so (nothing shown, a text
    unchanged), where `wait` is for what must become so. `sleep` as in `wait`."""
    values, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        values.append(read())
        sleep(every_s)
    return values


def on_page(page):
    """`wait`'s sleep for a Playwright page: its own timer, so the page's events go on meanwhile."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


def page_ready(page) -> None:
    """Wait until the app's page listens: its question box drawn and its load event run (the page has filled in this
    browser's id). A click before that can be lost: the box is drawn before Gradio connects its events."""
    page.locator("#question textarea").wait_for()
    page.wait_for_function("() => (document.querySelector('#browser-id textarea, #browser-id input') || {}).value")


def feed(live, clock: FakeClock, hands: list[bool], gap_s: float = 0.04) -> None:
    """Frames to a LiveSession one at a time (none is dropped as stale; each waits for its reply), `gap_s` of its
    clock apart (25 fps: enough frames reach the model at its 15 fps to read a segment of 8)."""
    for h in hands:
        answer(live, frame(h))
        clock.advance(gap_s)


def outgoing(live, clock: FakeClock, timeout_s: float = 5.0) -> list:
    """Frames without hands until the session auto-sends, and the turns it sent (the reading arrives on another
    thread; a frame collects it)."""
    def sent() -> list:
        feed(live, clock, [False], gap_s=0.05)
        return live.take_outgoing()
    return wait(sent, timeout_s, every_s=0)


def answer(live, rgb) -> object:
    """Submit one frame and wait for its FrameReply (read, or kept while the session rests)."""
    got: list = []
    done = threading.Event()
    live.submit(rgb, lambda r: (got.append(r), done.set()))
    assert done.wait(10.0), "no reply to a frame"
    return got[0]


# -- the app's services ------------------------------------------------------------------------------
class FakeAssistant:
    """The chain's real event types, from a fixed answer (or a failure)."""

    def __init__(self, fail: str = ""):
        self.calls = []
        self.fail = fail

    def validate(self, q):
        if not q.strip():
            raise InputError("the question is empty")
        return q.strip()

    def ask_stream(self, question, history=None, raw=None):
        from asl_gpt.rag.chain import Answer, Retrieved, Source, Token
        from asl_gpt.rag.correction import Correction

        self.calls.append((question, list(history or []), raw))
        corr = Correction(raw, "what is asl", (("whst", "what"),)) if raw else None
        asked = corr.corrected if corr and question == raw else self.validate(question)
        src = (Source(1, "knowledge/asl.md", "ASL", "Overview", "ASL is a language.", 0.8),)
        yield Retrieved(asked, src, corr)
        if self.fail:
            yield Answer(asked, "", src, "llm_error", error=self.fail, correction=corr)
            return
        for piece in ("ASL is ", "a language [1]."):
            yield Token(piece)
        yield Answer(asked, "ASL is a language [1].", (Source(**{**src[0].__dict__, "cited": True}),),
                     correction=corr, timings={"total_s": 0.1})


class FakeServices:
    """asl_gpt.app.services' surface over the fakes, with real Settings (a fast streaming schedule)."""

    def __init__(self, tmp_path):
        self.settings = Settings(paths=PathsConfig(knowledge_dir=tmp_path, state_dir=tmp_path),
                                 recognizer=RecognizerConfig(stride_frames=4, min_segment_frames=2, drop_frames=3,
                                                             max_fps=0))
        self.assistant_ = FakeAssistant()

    def recognizer(self, retry=False):
        return FakeRecognizer()

    def new_extractor(self):
        return FakeExtractor()

    def assistant(self):
        return self.assistant_

    def knowledge(self):
        return SimpleNamespace(documents=lambda: [], stats=lambda: SimpleNamespace(documents=0, chunks=0))

    def uploads_dir(self):
        return self.settings.paths.state_dir

    def close(self):
        pass


# -- embeddings ---------------------------------------------------------------------------------------
class HashEmbeddings(Embeddings):
    """Each word hashes to a direction; texts sharing words get a high cosine similarity (no weights needed)."""

    name = "hash-embeddings-test"

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls = 0  # texts embedded, to check that unchanged files are not re-embedded

    def _vec(self, text: str) -> list[float]:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in tokenize(text):
            h = int(hashlib.md5(w.encode()).hexdigest(), 16)
            v[h % self.dim] += 1.0 if (h >> 20) & 1 else -1.0
        n = np.linalg.norm(v)
        return (v / n if n else v).tolist()

    def embed_documents(self, texts):
        self.calls += len(texts)
        return [self._vec(t) for t in texts]

    def embed_query(self, text):
        return self._vec(text)
