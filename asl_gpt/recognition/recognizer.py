"""Run a fingerspelling model: `models/<name>.tflite` + its JSON contract, through LiteRT. Never torch.

`load_recognizer("default")` finds the shipped model; any model honouring asl_gpt.recognition.contract works.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.recognition.contract import ContractError, ModelContract
from asl_gpt.config import RecognizerConfig
from asl_gpt.recognition.decoding import (Lexicon, WordPrior, greedy_decode, lexicon_beam, nbest_decode, reading,
                                          sequence_logprob, word_aware)
from asl_gpt.recognition.rescoring import EditCosts, Trie, rescore
from asl_gpt.errors import ModelError
from asl_gpt.words import ALPHABET, edits1, english_frequencies, knowledge_words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hypothesis:
    text: str  # decoded characters (lowercase, competition vocabulary)
    confidence: float  # the model's confidence head, 0..1 (see the contract's "confidence")
    t_start: float  # ms, first frame of the window decoded
    t_end: float  # ms, last frame
    token_confidence: float = 0.0  # geometric mean of the chosen characters' probabilities
    raw_text: str = ""  # the letter-by-letter reading before word-aware decoding (equal when no word changed)


class Recognizer(Protocol):
    contract: ModelContract

    def recognize(self, frames: np.ndarray, t_start: float = 0.0, t_end: float = 0.0) -> Hypothesis:
        """float32[T, 543, 3] -> Hypothesis."""
        ...


def resolve_model(model: str | Path, models_dir: Path) -> tuple[Path, Path]:
    """A model name under models_dir, or a path with or without suffix -> (.tflite, .json)."""
    p = Path(model)
    if p.suffix in (".tflite", ".json"):
        p = p.with_suffix("")
    if not p.parent.parts or str(p.parent) == ".":
        if not p.with_suffix(".tflite").exists():
            p = models_dir / p.name
    tflite, contract = p.with_suffix(".tflite"), p.with_suffix(".json")
    if not tflite.is_file():
        available = sorted(q.stem for q in models_dir.glob("*.tflite")) if models_dir.is_dir() else []
        hint = f" (available in {models_dir}: {', '.join(available)})" if available else ""
        raise ModelError(f"model file not found: {tflite}{hint}")
    if not contract.is_file():
        raise ModelError(f"model contract not found: {contract} (every .tflite needs its .json)")
    return tflite, contract


def _ordered(names, preferred: list[str]) -> list[str]:
    """Signature tensor names in the contract's order: by name if the exporter kept them, else by
    the exporter's positional suffix (args_0, output_1, ...)."""
    names = list(names)
    if set(preferred) <= set(names):
        return preferred
    def key(n):
        m = re.search(r"(\d+)$", n)
        return (int(m.group(1)) if m else 1 << 30, n)
    return sorted(names, key=key)


class TFLiteRecognizer:
    """A loaded model. Thread-safe: one lock around the interpreter (LiteRT runners are not)."""

    def __init__(self, tflite_path: str | Path, contract: ModelContract, threads: int = 1,
                 word_weight: float = RecognizerConfig.word_weight, beam: int = RecognizerConfig.lexicon_beam,
                 nbest: int = RecognizerConfig.nbest, edit_cost: float = RecognizerConfig.edit_cost,
                 extra_words: tuple[str, ...] = ()):
        from ai_edge_litert.interpreter import Interpreter

        self.contract = contract
        self.word_weight = word_weight  # 0: letters as read, no English prior
        self.beam = beam  # lexicon beam width for words the lexicon lacks (0: one-edit neighbours only)
        self.nbest = nbest  # readings rescored with the word prior (0: the one-edit / lexicon-beam decoding)
        self.edit_cost = EditCosts(indel=edit_cost)
        self.extra_words = frozenset(extra_words)  # the caller's vocabulary (an index's words) beside the shipped ones
        self.path = Path(tflite_path)
        self._lock = threading.Lock()
        try:
            self._interp = Interpreter(model_path=str(self.path), num_threads=threads)
            sigs = self._interp.get_signature_list()
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"model {self.path} is not a readable TFLite file: {str(e).splitlines()[0]}") from None
        if "encode" not in sigs or "decode" not in sigs:
            raise ModelError(f"model {self.path} lacks the encode/decode signatures its contract needs "
                             f"(it has: {', '.join(sigs) or 'none'})")
        self._enc = self._interp.get_signature_runner("encode")
        self._dec = self._interp.get_signature_runner("decode")
        self._enc_in = _ordered(sigs["encode"]["inputs"], ["inputs", "mask"])
        self._enc_out = _ordered(sigs["encode"]["outputs"], ["memory", "memory_mask", "confidence"])
        self._dec_in = _ordered(sigs["decode"]["inputs"], ["memory", "memory_mask", "tokens"])
        self._dec_out = _ordered(sigs["decode"]["outputs"], ["logits"])
        self._letters = self._enc_letters = None
        if contract.n_letters and {"letters", "encode_letters"} <= set(sigs):
            self._letters = self._interp.get_signature_runner("letters")
            self._enc_letters = self._interp.get_signature_runner("encode_letters")
            self._enc_letters_in = _ordered(sigs["encode_letters"]["inputs"], ["letters", "inputs", "mask"])
        self._check_shapes()
        self._fingerprint = ""

    def _check_shapes(self) -> None:
        c = self.contract
        details = self._enc.get_input_details()
        shape = tuple(int(s) for s in details[self._enc_in[0]]["shape"])
        if shape != (1, c.window, c.features.n_features):
            raise ModelError(f"model {self.path.name} takes input {list(shape)} but its contract says "
                             f"[1, {c.window}, {c.features.n_features}]")
        tok_shape = tuple(int(s) for s in self._dec.get_input_details()[self._dec_in[2]]["shape"])
        if tok_shape != (1, c.tokens_len):
            raise ModelError(f"model {self.path.name} decodes {list(tok_shape)} tokens but its contract "
                             f"says [1, {c.tokens_len}]")
        out_shape = tuple(int(s) for s in self._dec.get_output_details()[self._dec_out[0]]["shape"])
        if out_shape[-1] != c.tokenizer.vocab_size:
            raise ModelError(f"model {self.path.name} has {out_shape[-1]} output classes but its vocabulary "
                             f"has {c.tokenizer.vocab_size}")

    def encode(self, window: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        return self._encoded(self._enc(**{self._enc_in[0]: window[None].astype(np.float32),
                                          self._enc_in[1]: mask[None].astype(np.float32)}))

    def _encoded(self, out: dict) -> tuple[np.ndarray, np.ndarray, float]:
        """(memory, memory_mask, confidence) from an encode or encode_letters signature's outputs."""
        memory, memory_mask, conf = (out[k] for k in self._enc_out)
        return memory, memory_mask, float(np.asarray(conf).reshape(-1)[0])

    def _decode(self, memory: np.ndarray, memory_mask: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """One decoder pass (the caller holds the lock)."""
        out = self._dec(**{self._dec_in[0]: memory, self._dec_in[1]: memory_mask,
                           self._dec_in[2]: tokens.astype(np.int32)})
        return out[self._dec_out[0]]

    @property
    def calibratable(self) -> bool:
        """The model exposes its per-frame letter evidence (asl_gpt.recognition.calibration can adapt it)."""
        return self._letters is not None

    @property
    def fingerprint(self) -> str:
        """sha256 of the model file: a calibration profile is valid for exactly this model."""
        if not self._fingerprint:
            import hashlib

            self._fingerprint = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return self._fingerprint

    def letter_logits(self, invariants: np.ndarray) -> np.ndarray:
        """float32[N, 103] signing-hand invariants -> float32[N, n_letters]: the model's letter head."""
        if self._letters is None:
            raise ModelError(f"model {self.path.name} does not expose its letter evidence (re-export it to calibrate)")
        w, n = self.contract.window, len(invariants)
        x = np.zeros((1, w, self.contract.features.n_features), np.float32)
        out = np.zeros((n, self.contract.n_letters), np.float32)
        with self._lock:
            for i in range(0, n, w):
                chunk = invariants[i:i + w]
                x[0, :len(chunk), :features.N_INVARIANTS] = chunk
                out[i:i + len(chunk)] = self._letters(inputs=x)["logits"][0, :len(chunk)]
        return out

    def _encode_adapted(self, window: np.ndarray, mask: np.ndarray, adapter) -> tuple[np.ndarray, np.ndarray, float]:
        """encode() with the letter evidence adjusted by a calibration profile's adapter (lock held)."""
        x = window[None].astype(np.float32)
        logits = self._letters(inputs=x)["logits"][0]
        present = window[:, features.N_INVARIANTS] > 0.5  # the first extra feature: the signing hand is there
        logits[present] = adapter.apply(window[present, :features.N_INVARIANTS], logits[present])
        return self._encoded(self._enc_letters(**{self._enc_letters_in[0]: logits[None], self._enc_letters_in[1]: x,
                                                  self._enc_letters_in[2]: mask[None].astype(np.float32)}))

    def _encode_with(self, window: np.ndarray, mask: np.ndarray, adapter) -> tuple[np.ndarray, np.ndarray, float]:
        """encode(), through a calibration adapter where one is given and the model exposes its letters (lock held)."""
        if adapter is not None and self._letters is not None:
            return self._encode_adapted(window, mask, adapter)
        return self.encode(window, mask)

    def recognize(self, frames: np.ndarray, t_start: float = 0.0, t_end: float = 0.0, aspect: float = 1.0,
                  adapter=None) -> Hypothesis:
        """`aspect`: the frames' width / height where known (1.0: frames already in true proportions).
        `adapter`: a user's calibration (asl_gpt.recognition.calibration.Adapter) for its letter evidence."""
        if frames.shape[0] == 0 or not features.hands_present(frames).any():
            return Hypothesis("", 0.0, t_start, t_end)  # nothing to read: never run the model on no hands
        c, tok = self.contract, self.contract.tokenizer
        window, mask = features.prepare(frames, c.features, aspect)
        with self._lock:
            memory, memory_mask, conf = self._encode_with(window, mask, adapter)
            if adapter is not None and self._letters is not None:
                # A profile sharpens which letter a shape is, not whether this is spelling: the gate never
                # gets less sure than the shipped model is of the same frames. That takes a second encoder pass,
                # and no signature avoids it: the confidence head reads the encoder's pooled states over the letter
                # evidence (model/fingerspeller.py `_encode`), which the adapter has changed, and encode and
                # encode_letters each take one [1, window] sequence (no batch of the adapted and shipped evidence).
                conf = max(conf, self.encode(window, mask)[2])

            def step(tokens: np.ndarray) -> np.ndarray:
                return self._decode(memory, memory_mask, tokens)

            dec = greedy_decode(step, c.tokens_len, tok.sos_id, tok.eos_id, tok.pad_id, len(tok.symbols))
            raw = tok.decode(dec.ids)
            text = self._words(step, dec.ids, raw) if self.word_weight > 0 and raw.strip() else raw
        return Hypothesis(text, float(np.clip(conf, 0.0, 1.0)), t_start, t_end, dec.token_confidence, raw)

    def _words(self, step, ids: tuple[int, ...], raw: str) -> str:
        """The reading with the English word prior (asl_gpt.recognition.rescoring; the lock is held)."""
        c, tok = self.contract, self.contract.tokenizer
        if self.nbest > 0:
            spelled = tok.encode(ALPHABET + " ")  # alternatives are letters and spaces: what a signer fingerspells
            readings = [reading(step, ids, c.tokens_len, tok.sos_id, tok.eos_id, tok.pad_id)]  # the greedy one first
            readings += [r for r in nbest_decode(step, c.tokens_len, tok.sos_id, tok.eos_id, tok.pad_id, spelled,
                                                 self.nbest) if r.ids != readings[0].ids]
            prior, trie = _vocabulary(self.extra_words)
            return rescore(readings, tok.decode, [tok.encode(ch)[0] for ch in ALPHABET], prior, self.word_weight,
                           trie, self.edit_cost)

        def score(t: str) -> float:
            return sequence_logprob(step, tok.encode(t), c.tokens_len, tok.sos_id, tok.eos_id, tok.pad_id)

        def beam(words: list[str], i: int) -> list[str]:
            before = tok.encode(" ".join(words[:i]) + " ") if i else []
            end = tok.encode(" ")[0] if i + 1 < len(words) else tok.eos_id
            return lexicon_beam(step, before, tok.encode, end, c.tokens_len, tok.pad_id, tok.sos_id, _lexicon(),
                                ALPHABET, len(words[i]) + 2, self.beam)

        return word_aware(raw, score, _word_prior(), self.word_weight, edits1, beam=beam if self.beam > 0 else None)

    def teacher_forced(self, frames: np.ndarray, ids: list[int], aspect: float = 1.0, adapter=None) -> np.ndarray:
        """float32[len(ids) + 1, vocab]: the decoder's logits at each position when fed SOS + `ids` (row i chooses
        the token after the first i ids): how well a known text fits these frames (asl_gpt.recognition.practice)."""
        c, tok = self.contract, self.contract.tokenizer
        if len(ids) >= c.tokens_len:
            raise ModelError(f"{len(ids)} characters do not fit the decoder ({c.tokens_len - 1} at most)")
        window, mask = features.prepare(frames, c.features, aspect)
        with self._lock:
            memory, memory_mask, _ = self._encode_with(window, mask, adapter)
            tokens = np.full((1, c.tokens_len), tok.pad_id, np.int32)
            tokens[0, 0], tokens[0, 1:1 + len(ids)] = tok.sos_id, ids
            return np.asarray(self._decode(memory, memory_mask, tokens))[0, :len(ids) + 1]

    def decode_step(self, memory: np.ndarray, memory_mask: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """One decoder pass over encode()'s memory: int32[1, tokens_len] tokens -> logits [1, tokens_len, vocab]
        (recognize runs the same pass; the latency benchmark times it)."""
        with self._lock:
            return self._decode(memory, memory_mask, tokens)


class AdaptedRecognizer:
    """A shared model reading through one calibration adapter (the interpreter and its lock stay shared)."""

    def __init__(self, base: TFLiteRecognizer, adapter):
        self.base = base
        self.adapter = adapter
        self.contract = base.contract

    def recognize(self, frames: np.ndarray, t_start: float = 0.0, t_end: float = 0.0,
                  aspect: float = 1.0) -> Hypothesis:
        return self.base.recognize(frames, t_start, t_end, aspect, adapter=self.adapter)


class CalibratedRecognizer(AdaptedRecognizer):
    """One user's view of a shared model: its readings go through that user's profile's adapter.
    Each browser session or command holds its own."""

    def __init__(self, base: TFLiteRecognizer, profile):
        super().__init__(base, profile.adapter)
        self.profile = profile


def with_profile(recognizer: TFLiteRecognizer, profile) -> tuple[Recognizer, str]:
    """(the recognizer to use, '' or one line on why the profile is not applied). Never raises: a
    profile that does not fit this model leaves the shipped model reading, and says so."""
    from asl_gpt.recognition.calibration import check_model

    if not recognizer.calibratable:
        return recognizer, f"model {recognizer.contract.name!r} cannot be calibrated: the profile is not applied"
    problem = check_model(profile, recognizer.contract.name, recognizer.fingerprint)
    if problem:
        return recognizer, problem + "; reading without it"
    if not profile.usable:
        return recognizer, f"profile not applied: {profile.summary()}"
    return CalibratedRecognizer(recognizer, profile), ""


def with_profile_file(recognizer: TFLiteRecognizer, path: str | Path) -> tuple[Recognizer, str]:
    """`with_profile` for a profile file: a missing, corrupt or foreign file is one line too, never raised."""
    from asl_gpt.recognition.calibration import ProfileError, load_profile

    try:
        profile = load_profile(path)
    except ProfileError as e:
        return recognizer, f"{e}; reading without a profile"
    return with_profile(recognizer, profile)


@lru_cache(maxsize=1)
def _word_prior() -> WordPrior:
    """English word frequencies (pyspellchecker's list) and the shipped knowledge base's words (as rare as the
    rarest English word kept: known, never favoured), loaded once for every recognizer."""
    from asl_gpt import resources

    english = WordPrior.from_counts(english_frequencies())
    floor = min(english.logp.values(), default=0.0)
    extra = {w: floor for w in knowledge_words(str(resources.knowledge_dir())) if w not in english.logp}
    return WordPrior({**english.logp, **extra}, english.unknown)


@lru_cache(maxsize=1)
def _lexicon() -> Lexicon:
    return Lexicon.of(_word_prior().logp)


@lru_cache(maxsize=4)
def _vocabulary(extra: frozenset[str]) -> tuple[WordPrior, Trie]:
    """The rescoring's word prior, and its trie: English, then the shipped knowledge base's words English
    lacks, from the rarest English word kept up by their count there (ASL, Gallaudet: a user asks about
    them), then the caller's words (an index's vocabulary) as rare as the rarest kept."""
    from asl_gpt import resources

    english = WordPrior.from_counts(english_frequencies())
    floor = min(english.logp.values(), default=0.0)
    kb = knowledge_words(str(resources.knowledge_dir()))
    logp = {w: floor + float(np.log(c)) for w, c in kb.items() if len(w) >= 2 and w.isalpha() and w.isascii()}
    logp.update({w: max(lp, logp.get(w, lp)) for w, lp in english.logp.items()})
    for w in extra:
        if w.isalpha() and w.isascii():
            logp.setdefault(w, floor)
    return WordPrior(logp, english.unknown), Trie(logp)


def load_recognizer(model: str | Path, models_dir: str | Path, threads: int = 1,
                    word_weight: float = RecognizerConfig.word_weight,
                    beam: int = RecognizerConfig.lexicon_beam, nbest: int = RecognizerConfig.nbest,
                    edit_cost: float = RecognizerConfig.edit_cost, extra_words: tuple[str, ...] = ()) -> TFLiteRecognizer:
    """Load and check a model; ModelError (one line) when it is missing, corrupt or mismatched."""
    tflite, contract_path = resolve_model(model, Path(models_dir))
    try:
        contract = ModelContract.load(contract_path)
    except ContractError as e:
        raise ModelError(str(e)) from None
    rec = TFLiteRecognizer(tflite, contract, threads=threads, word_weight=word_weight, beam=beam, nbest=nbest,
                           edit_cost=edit_cost, extra_words=extra_words)
    log.info("loaded model %s (window %d, %d columns)", tflite, contract.window, len(contract.columns))
    return rec


def with_profile_setting(recognizer: TFLiteRecognizer, value: str | None,
                         state_dir: str | Path) -> tuple[Recognizer, str]:
    """`with_profile_file` for a command's `--profile` (a name under the state folder, or a file; None: none)."""
    if not value:
        return recognizer, ""
    from asl_gpt.recognition.calibration import resolve_profile

    return with_profile_file(recognizer, resolve_profile(value, state_dir))


def calibratable_recognizer(settings, model: str | Path | None = None) -> TFLiteRecognizer:
    """The recognizer per settings (or `model`); InputError when it exposes no letter evidence to calibrate."""
    from asl_gpt.errors import InputError

    rec = build_recognizer(settings, model)
    if not rec.calibratable:
        raise InputError(f"model {rec.contract.name!r} does not expose its letter evidence: it cannot be calibrated")
    return rec


def build_recognizer(settings, model: str | Path | None = None, threads: int | None = None) -> TFLiteRecognizer:
    """`load_recognizer` with everything from the settings (`model`, `threads`: a command's own choice, if any)."""
    cfg = settings.recognizer
    return load_recognizer(model or cfg.model, settings.paths.models_dir, threads or cfg.threads,
                           word_weight=cfg.word_weight, beam=cfg.lexicon_beam, nbest=cfg.nbest, edit_cost=cfg.edit_cost)
