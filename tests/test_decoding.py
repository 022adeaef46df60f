"""Greedy decoding against a fake logits interface; tokenizer and contract round trips."""

import numpy as np
import pytest

from asl_gpt.recognition.contract import ContractError, ModelContract
from asl_gpt.recognition.decoding import greedy_decode
from asl_gpt.recognition.features import hand_columns
from asl_gpt.recognition.tokenizer import Tokenizer

TOK = Tokenizer()


def scripted_step(script: list[int], length: int):
    """A decoder that wants `script` then EOS, and checks it is fed its own previous outputs."""
    V = TOK.vocab_size

    def step(tokens):
        assert tokens.shape == (1, length) and tokens[0, 0] == TOK.sos_id
        logits = np.zeros((1, length, V), np.float32)
        for i in range(length):
            want = script[i] if i < len(script) else TOK.eos_id
            logits[0, i, want] = 5.0
            if 0 < i <= len(script) and tokens[0, i] != TOK.pad_id:
                assert tokens[0, i] == script[i - 1]
        return logits

    return step


def test_tokenizer_matches_competition_vocabulary(data_dir):
    tok = Tokenizer.from_file(data_dir / "kaggle-format" / "character_to_prediction_index.json")
    assert tok == TOK and TOK.vocab_size == 62 and (TOK.pad_id, TOK.sos_id, TOK.eos_id) == (59, 60, 61)
    assert TOK.decode(TOK.encode("Hello, World!")) == "hello, world!"


def test_greedy_decode_stops_at_eos():
    ids = TOK.encode("asl")
    d = greedy_decode(scripted_step(ids, 8), 8, TOK.sos_id, TOK.eos_id, TOK.pad_id, len(TOK.symbols))
    assert TOK.decode(d.ids) == "asl" and len(d.token_probs) == 4 and 0 < d.token_confidence <= 1


def test_greedy_decode_never_emits_pad_or_sos_and_caps_length():
    V, L = TOK.vocab_size, 5

    def step(tokens):
        logits = np.zeros((1, L, V), np.float32)
        logits[..., TOK.pad_id] = 9.0  # a broken model preferring PAD
        logits[..., TOK.sos_id] = 8.0
        logits[..., 32] = 1.0  # 'a'
        return logits

    d = greedy_decode(step, L, TOK.sos_id, TOK.eos_id, TOK.pad_id, len(TOK.symbols))
    assert TOK.decode(d.ids) == "aaaa"


def test_contract_round_trip_and_validation(tmp_path):
    c = ModelContract("m", hand_columns(), 64, 31, metadata={"trained_on": "x"})
    c.save(tmp_path / "m.json")
    back = ModelContract.load(tmp_path / "m.json")
    assert back == c and back.features.n_features == 126
    bad = c.to_json()
    bad["input"]["columns"] = ["q_face_0"]
    with pytest.raises(ContractError):
        ModelContract.from_json(bad)
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(ContractError, match="not readable JSON"):
        ModelContract.load(tmp_path / "x.json")


# --- word-aware decoding ----------------------------------------------------------------------------

from asl_gpt.recognition.decoding import WordPrior, sequence_logprob, word_aware  # noqa: E402
from asl_gpt.words import edits1  # noqa: E402

PRIOR = WordPrior.from_counts({"dog": 500, "cat": 800, "do": 900, "hello": 300, "a": 5000})


def _table_scorer(table: dict[str, float], default: float = -20.0):
    """A fake model: the log-probability of each text it might be asked about."""
    return lambda text: table.get(text, default)


def test_an_unsure_letter_becomes_the_english_word():
    # the model read "dop" but "dog" is nearly as likely to it: the prior decides
    score = _table_scorer({"dop": -2.0, "dog": -2.6})
    assert word_aware("dop", score, PRIOR, weight=0.3, neighbours=edits1) == "dog"


def test_a_confident_unknown_word_stays_as_read():
    # a name the model reads clearly is not turned into a word it did not see
    score = _table_scorer({"doq": -0.3, "dog": -9.0})
    assert word_aware("doq", score, PRIOR, weight=0.3, neighbours=edits1) == "doq"


def test_known_words_single_letters_and_weight_zero():
    score = _table_scorer({"cat": -1.0, "cot": -1.2, "x cat": -1.0, "x": -1.0})
    assert word_aware("cat", score, PRIOR, 0.3, edits1) == "cat"
    assert word_aware("x", score, PRIOR, 0.3, edits1) == "x"  # single letters are spelled on purpose
    assert word_aware("dop", _table_scorer({"dop": -2.0, "dog": -2.1}), PRIOR, 0.0, edits1) == "dop"


def test_each_word_is_rescored_in_its_phrase():
    score = _table_scorer({"helo dop": -3.0, "hello dop": -3.5, "hello dog": -3.9})
    assert word_aware("helo dop", score, PRIOR, 0.3, edits1) == "hello dog"


def test_prior_ranks_known_words_above_unknown():
    assert PRIOR("cat") > PRIOR("dog") > PRIOR("zzz") == PRIOR.unknown


def test_sequence_logprob_is_one_teacher_forced_call():
    calls = []
    V = 6  # ids 0..2 symbols, 3 PAD, 4 SOS, 5 EOS

    def step(tokens):
        calls.append(tokens.copy())
        logits = np.zeros((1, tokens.shape[1], V), np.float32)
        logits[0, :, 1] = 3.0  # the model likes symbol 1 ...
        logits[0, 2, 5] = 6.0  # ... and ends after two symbols
        return logits

    lp = sequence_logprob(step, [1, 1], 5, sos_id=4, eos_id=5, pad_id=3)
    assert len(calls) == 1 and calls[0].tolist() == [[4, 1, 1, 3, 3]]
    worse = sequence_logprob(step, [1, 2], 5, sos_id=4, eos_id=5, pad_id=3)
    assert lp > worse and lp < 0
    assert sequence_logprob(step, [1] * 5, 5, 4, 5, 3) == float("-inf")  # longer than the decoder holds


def test_a_held_letter_read_as_a_run_is_capped_and_its_single_spelling_considered():
    score = _table_scorer({"dogg": -1.0, "dog": -1.4, "doggg": -0.5})
    assert word_aware("dogggg", score, PRIOR, 0.3, edits1) == "dog"
    assert word_aware("xyzzz", _table_scorer({"xyzz": -0.1}), PRIOR, 0.3, edits1) == "xyzz"  # capped at two


# --- the lexicon beam ---------------------------------------------------------------------------------

def evidence_step(columns: list[dict[str, float]], length: int = 32):
    """A decoder whose letter evidence at each position is `columns[i]` (letter -> probability, the rest
    tiny), independent of what came before; after the last column it wants EOS. Like a model that saw
    each letter's frames but not which letter they spell."""
    V = TOK.vocab_size

    def step(tokens):
        logits = np.full((1, length, V), -12.0, np.float32)
        for i in range(length):
            if i < len(columns):
                for ch, p in columns[i].items():
                    logits[0, i, TOK.encode(ch)[0]] = np.log(p)
            else:
                logits[0, i, TOK.eos_id] = 0.0
        return logits

    return step


def _read(step, raw: str, prior_words: dict[str, int]):
    from asl_gpt.recognition.decoding import Lexicon, WordPrior, lexicon_beam, sequence_logprob, word_aware
    from asl_gpt.words import ALPHABET, edits1

    prior = WordPrior.from_counts(prior_words)
    lex = Lexicon.of(prior.logp)

    def score(t):
        return sequence_logprob(step, TOK.encode(t), 32, TOK.sos_id, TOK.eos_id, TOK.pad_id)

    def beam(words, i):
        before = TOK.encode(" ".join(words[:i]) + " ") if i else []
        end = TOK.encode(" ")[0] if i + 1 < len(words) else TOK.eos_id
        return lexicon_beam(step, before, TOK.encode, end, 32, TOK.pad_id, TOK.sos_id, lex, ALPHABET, len(words[i]) + 2)

    return word_aware(raw, score, prior, 0.3, edits1, beam=beam)


WORDS = {"kangaroo": 50, "kangaroos": 20, "garage": 300, "the": 10000, "karate": 40, "car": 900, "tiger": 60}


def test_lexicon_beam_repairs_a_word_two_edits_away():
    """'kangarbe' is three edits from 'kangaroo': one-edit neighbours cannot reach it, the beam does, because
    the evidence holds o beside b and e at those positions."""
    cols = [{"k": 0.9}, {"a": 0.9}, {"n": 0.6, "r": 0.4}, {"g": 0.9}, {"a": 0.9}, {"r": 0.9},
            {"b": 0.55, "o": 0.45}, {"e": 0.55, "o": 0.45}]
    raw = "kangarbe"
    assert _read(evidence_step(cols), raw, WORDS) == "kangaroo"
    from asl_gpt.recognition.decoding import WordPrior, word_aware
    from asl_gpt.words import edits1
    prior = WordPrior.from_counts(WORDS)
    one_edit = word_aware(raw, lambda t: 0.0, prior, 0.3, edits1)  # today's decoding: no neighbour one edit away
    assert one_edit == raw


def test_lexicon_beam_keeps_a_clearly_read_name():
    """A name the model reads surely stays as read, though English words lie two edits away."""
    cols = [{"k": 0.97}, {"a": 0.97}, {"r": 0.97}, {"i": 0.97}, {"n": 0.97}, {"a": 0.97}]
    assert _read(evidence_step(cols), "karina", WORDS) == "karina"


def test_lexicon_beam_only_ends_on_lexicon_words():
    from asl_gpt.recognition.decoding import Lexicon, lexicon_beam
    from asl_gpt.words import ALPHABET

    cols = [{"c": 0.9}, {"a": 0.9}, {"r": 0.9}, {"x": 0.9}]
    lex = Lexicon.of(["car", "cart", "care"])
    out = lexicon_beam(evidence_step(cols), [], TOK.encode, TOK.eos_id, 32, TOK.pad_id, TOK.sos_id, lex, ALPHABET, 6)
    assert out and set(out) <= {"car", "cart", "care"}
