"""The Practice tab's logic without a browser: levels, progress per learner, the next word, a camera take, the
result's HTML, and "How do I spell X" in the chat."""

import re

import numpy as np
from fakes import FakeAssistant, FakeServices, landmarks

from asl_gpt import resources
from asl_gpt.app import practice as pr
from asl_gpt.app.chat import answer_turn
from asl_gpt.app.pending import Turn
from asl_gpt.recognition.practice import Take
from asl_gpt.recognition.practice import Judgement, LetterVerdict, Tip


def verdicts(word: str, ok: str, read_as: str = "") -> Judgement:
    read_as = read_as or word
    return Judgement(word, tuple(LetterVerdict(c, o == "1", 0.9 if o == "1" else 0.1, r, i * 0.5, i * 0.5 + 0.4)
                                 for i, (c, o, r) in enumerate(zip(word, ok, read_as))))


def test_levels_have_words_of_letters_only():
    kb = resources.knowledge_dir()
    for level in pr.LEVELS:
        words = pr.level_words(level, kb)
        assert words and all(re.fullmatch(r"[a-z]+", w) for w in words), level
    assert pr.level_words("Letters", kb) == list("abcdefghijklmnopqrstuvwxyz")
    assert all(4 <= len(w) <= 8 for w in pr.level_words("Knowledge base words", kb))


def test_progress_is_kept_per_learner_and_reset(tmp_path):
    services = FakeServices(tmp_path)
    path = pr.progress_path(services, "ana")
    assert path.parent == tmp_path / "profiles" and path.name == "ana.practice.json"
    p = pr.load_progress(path)
    assert p.letters == {} and pr.progress_text(p) == "No letters practised yet."
    p.record(verdicts("cat", "101", "cst"))
    p.record(verdicts("sat", "111"))
    pr.save_progress(p, path)
    q = pr.load_progress(path)
    assert q.letters == {"c": [1, 1], "a": [2, 1], "t": [2, 2], "s": [1, 1]}
    assert q.rate("a") == 0.5 and q.weakest(1) == ["a"]
    assert "4 letters practised" in pr.progress_text(q) and "A 50%" in pr.progress_text(q)
    assert pr.load_progress(pr.progress_path(services, "bo")).letters == {}  # another learner starts afresh
    path.write_text("{not json")
    assert pr.load_progress(path).letters == {}  # damaged: afresh, never an error


def test_next_word_practises_the_weakest_letters():
    p = pr.Progress({c: [10, 10] for c in "abcdefghijklmnopqrstuvwxyz"})
    p.letters["z"] = [10, 0]
    p.letters["q"] = [10, 1]
    rng = np.random.default_rng(0)
    picks = [pr.next_word("Short words", p, rng) for _ in range(20)]
    assert all("z" in w or "q" in w for w in picks), picks
    assert pr.next_word("Letters", p, rng, last="z") != "z"


def test_a_camera_take_runs_from_the_first_hand_until_it_has_gone_half_a_second():
    take = Take("cat")
    for t in range(0, 300, 33):
        take.feed(float(t), landmarks(False), 4 / 3)
    assert not take.started and not take.done
    for t in range(300, 1500, 33):
        take.feed(float(t), landmarks(True), 4 / 3)
    assert take.started and not take.done
    for t in range(1500, 2600, 33):
        take.feed(float(t), landmarks(False), 4 / 3)
    assert take.done
    frames, times, aspect = take.landmarks()
    assert len(frames) == len(times) and times[0] == 300 and aspect == 4 / 3


def test_result_marks_each_letter_in_words_and_helps_with_the_missed_ones():
    j = Judgement("cat", verdicts("cat", "101", "cst").letters,
                  (Tip("a", "s", "Laying the thumb across the fingers turns A into S.", "02-letters-a-to-f.md",
                       "How to sign the letter A in ASL"),))
    out = pr.result_html(j)
    assert "2 of 3 letters right" in out
    assert out.count("✓ right") == 2 and "✗ missed, read as S" in out
    assert "data-letter='a'" in out and "<svg" in out and "turns A into S" in out and "02-letters-a-to-f.md" in out
    assert "Every letter right" in pr.result_html(verdicts("cat", "111"))


def test_how_do_i_spell_is_answered_with_handshapes_not_the_knowledge_base():
    assert pr.spelling_question("How do I spell cat?") == "cat"
    assert pr.spelling_question('how do you fingerspell "Zoe" in ASL?') == "zoe"
    assert pr.spelling_question("How do I spell my name?") is None
    assert pr.spelling_question("What is fingerspelling?") is None
    backend = FakeAssistant()
    chat, turns, status = list(answer_turn(backend, Turn("How do I spell cab?", "typed"), [], []))[-1]
    assert backend.calls == []  # no retrieval, no LLM
    answer = chat[-1]["content"]
    assert "C-A-B" in answer and answer.count("data:image/svg+xml;base64,") == 3
    assert [m for m in re.findall(r"\*\*([A-Z])\*\*", answer)] == ["C", "A", "B"]  # each letter as text
    assert "ASL handshape for C" in answer  # the picture's own text
    assert turns[-1]["content"] == "CAB is spelled C-A-B."


def test_a_live_session_practising_gives_its_frames_to_the_take_and_reads_nothing():
    from fakes import FakeClock, FakeExtractor, FakeRecognizer, feed

    from asl_gpt.app.live import LiveOptions, LiveSession
    from asl_gpt.recognition.buffer import BufferOptions
    from asl_gpt.recognition.streaming import StreamOptions

    clock = FakeClock()
    live = LiveSession(FakeRecognizer("practice words"), FakeExtractor,
                       StreamOptions(stride_frames=2, drop_frames=2, min_segment_frames=2),
                       BufferOptions(min_confidence=0.5, end_pause_ms=100), LiveOptions(idle_stop_s=5.0), clock=clock)
    take = Take("cat")
    live.practise(take)
    feed(live, clock, [False] * 3 + [True] * 20 + [False] * 20, gap_s=0.05)
    assert take.started and take.done and len(take.frames) >= 20
    assert live.state().text == "" and not live.take_outgoing()  # nothing read or sent while practising
    live.practise(None)
    assert live.practice_take is None
    live.close()
