"""Words from uncertain letters: n-best readings rescored with a word prior, edits weighed by posteriors."""

import numpy as np

from asl_gpt.recognition.decoding import Reading, WordPrior, nbest_decode, reading
from asl_gpt.recognition.rescoring import Trie, best_word, candidates, letter_costs, rescore
from asl_gpt.recognition.tokenizer import Tokenizer
from asl_gpt.words import ALPHABET

TOK = Tokenizer()
CHAR_IDS = [TOK.encode(c)[0] for c in ALPHABET]
# log P(word) on the scale of the English list (pyspellchecker's top 30,000: "the" -3.0, rarest -15.4)
PRIOR = WordPrior({"the": -3.0, "test": -9.4, "when": -5.8, "cup": -9.9, "she": -5.5, "but": -5.0, "out": -5.5,
                   "karate": -13.0, "carina": -15.0, "marina": -13.5, "kevin": -11.0}, unknown=-18.4)
TRIE = Trie(PRIOR.logp)


def rows_of(columns: list[dict[str, float]]) -> tuple[str, np.ndarray, list[int]]:
    """(the letters read, log-posteriors [n, V], their ids): at each position the given letters' probabilities,
    the rest shared evenly; the read letter is the most probable one."""
    V = TOK.vocab_size
    rows = np.empty((len(columns), V))
    for i, col in enumerate(columns):
        p = np.full(V, (1.0 - sum(col.values())) / (V - len(col)))
        for ch, q in col.items():
            p[TOK.encode(ch)[0]] = q
        rows[i] = np.log(p)
    text = "".join(max(col, key=col.get) for col in columns)
    return text, rows, TOK.encode(text)


def read(columns, weight=0.3):
    text, rows, ids = rows_of(columns)
    return best_word(text, rows, ids, CHAR_IDS, PRIOR, weight, TRIE)[0]


def test_uncertain_letters_reach_the_common_word_two_or_three_edits_away():
    # "teast": the a was a guess (s nearly as likely), the last two letters unsure too -> "test"
    assert read([{"t": 0.9}, {"e": 0.9}, {"a": 0.45, "s": 0.4}, {"s": 0.5, "t": 0.4}, {"t": 0.6, "s": 0.3}]) == "test"
    # "wgsz": w sure, then three guesses with h, e and n close behind -> "when" (three substitutions)
    assert read([{"w": 0.95}, {"g": 0.45, "h": 0.4}, {"s": 0.4, "e": 0.35}, {"z": 0.4, "n": 0.35}]) == "when"
    # "shae": a spurious a the model was unsure of -> "she"
    assert read([{"s": 0.95}, {"h": 0.9}, {"a": 0.45, "e": 0.3}, {"e": 0.8}]) == "she"
    # a dropped letter costs at least `indel` (1 nat) however unsure it was: three cost more than "cup" gains
    assert read([{"c": 0.95}, {"u": 0.9}, {"g": 0.2}, {"p": 0.6}, {"d": 0.1}, {"g": 0.1}]) == "cugpdg"


def test_a_name_read_with_sure_letters_stays_as_read():
    # "karina" is two edits from "marina" and "carina", but every letter was read surely
    assert read([{c: 0.97} for c in "karina"]) == "karina"
    assert read([{c: 0.95} for c in "kevon"]) == "kevon"  # one sure edit from "kevin": still a different name


def test_an_edit_at_a_sure_letter_costs_more_than_at_an_unsure_one():
    _, rows, ids = rows_of([{"b": 0.9}, {"u": 0.9}, {"l": 0.97, "t": 0.01}])
    sure = letter_costs(rows, ids, CHAR_IDS)[0][2, ALPHABET.index("t")]
    _, rows, ids = rows_of([{"b": 0.9}, {"u": 0.9}, {"l": 0.5, "t": 0.4}])
    unsure = letter_costs(rows, ids, CHAR_IDS)[0][2, ALPHABET.index("t")]
    assert sure > 3.0 > 0.5 > unsure


def test_candidates_are_exact_weighted_edit_distances():
    _, rows, ids = rows_of([{"s": 0.9}, {"h": 0.9}, {"a": 0.5, "e": 0.4}, {"e": 0.9}])
    sub, dele, ins = letter_costs(rows, ids, CHAR_IDS)
    found = dict((w, c) for c, w in candidates(TRIE, sub, dele, ins, bound=50.0))
    # "she" from "shae": drop the a (indel + -log(1 - 0.5)); or a->e then drop the e: the cheaper one
    drop_a = dele[2]
    a_to_e_drop_e = sub[2, ALPHABET.index("e")] + dele[3]
    assert np.isclose(found["she"], min(drop_a, a_to_e_drop_e))
    assert "the" in found and found["the"] > found["she"]


def test_rescore_picks_the_best_utterance_and_keeps_single_letters():
    text, rows, ids = rows_of([{"i": 0.9}, {" ": 0.9}, {"b": 0.9}, {"u": 0.9}, {"l": 0.5, "t": 0.45}])
    r = Reading(tuple(ids), -3.0, rows)
    assert rescore([r], TOK.decode, CHAR_IDS, PRIOR, 0.3, TRIE) == "i but"
    assert rescore([r], TOK.decode, CHAR_IDS, PRIOR, 0.0, TRIE) == "i bul"  # weight 0: as read


def test_nbest_decode_finds_the_readings_by_probability():
    V, L = TOK.vocab_size, 8
    a, b, eos = TOK.encode("a")[0], TOK.encode("b")[0], TOK.eos_id

    def step(tokens):  # first letter a (0.6) or b (0.4), then EOS
        logits = np.full((1, L, V), -20.0, np.float32)
        logits[0, 0, a], logits[0, 0, b] = np.log(0.6), np.log(0.4)
        logits[0, 1:, eos] = 0.0
        return logits

    out = nbest_decode(step, L, TOK.sos_id, eos, TOK.pad_id, TOK.encode("ab "), 2)
    assert [TOK.decode(r.ids) for r in out] == ["a", "b"]
    assert np.isclose(out[0].logprob, np.log(0.6), atol=1e-3) and out[0].posteriors.shape == (1, V)
    assert reading(step, out[1].ids, L, TOK.sos_id, eos, TOK.pad_id).logprob == out[1].logprob


def test_a_read_letter_is_no_evidence_of_a_second_one():
    # "al" (l sure enough) is not "all" however much more common "all" is: its l is read once
    prior = WordPrior({"all": -4.0, "al": -12.0, "at": -4.9}, unknown=-18.4)
    text, rows, ids = rows_of([{"a": 0.95}, {"l": 0.8, "t": 0.05}])
    assert best_word(text, rows, ids, CHAR_IDS, prior, 0.3, Trie(prior.logp))[0] == "al"
