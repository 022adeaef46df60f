"""Greedy decoding against a fake logits interface; tokenizer and contract round trips."""

import numpy as np
import pytest

from asl_gpt.contract import ContractError, ModelContract
from asl_gpt.decoding import greedy_decode
from asl_gpt.features import hand_columns
from asl_gpt.tokenizer import Tokenizer

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
