"""The load benchmark's pure parts: camera pacing, the event stream, answer timing, cross-talk, the table.

No server, no timings: the benchmark itself prints its figures (`asl-gpt bench load`)."""

from __future__ import annotations

import json

import pytest

from asl_gpt.benchmarks.load import (AnswerTiming, CameraStats, Row, answer_timing, camera_frame, crosstalk,
                                     sse_events, summary, table)


def test_a_camera_shows_the_video_at_its_own_pace_in_a_loop():
    assert [camera_frame(t, 62) for t in (0.0, 0.02, 0.034, 1.0, 2.0, 2.07)] == [0, 0, 1, 30, 60, 0]
    assert camera_frame(5.0, 0) == 0


def test_sse_events_reads_data_lines_only():
    lines = ["event: heartbeat", "data: {}", 'data: {"msg": "process_starts", "event_id": "e"}', "", "data: ALIVE",
             "data: {broken", 'data:{"msg": "close_stream"}']
    assert list(sse_events(lines)) == [{}, {"msg": "process_starts", "event_id": "e"}, {"msg": "close_stream"}]


def _gen(t, status, done=False, success=True):
    m = {"msg": "process_completed" if done else "process_generating", "event_id": "e",
         "output": {"data": [[["append", [0, "content"], "x"]], [["replace", [], status]]]}}
    if done:
        m["success"] = success
    return t, m


def test_answer_timing_first_token_total_and_status():
    msgs = [(10.5, {"msg": "process_starts"}), _gen(11.0, "searching the knowledge base…"),
            _gen(12.0, "3 passages found; waiting for the LLM…"), _gen(13.5, "answering…"), _gen(14.0, "answering…"),
            _gen(20.0, "answered in 9.9 s"), _gen(20.1, "answered in 9.9 s", done=True)]
    t = answer_timing(msgs, 10.0)
    assert t == AnswerTiming(3.5, pytest.approx(10.1), "answered in", True)
    assert answer_timing([_gen(11, "not in the knowledge base", done=True)], 10.0).ok  # a refusal is an answer
    llm_down = answer_timing([_gen(11, "LLM error: cannot reach the LLM", done=True)], 10.0)
    assert not llm_down.ok and llm_down.first_token_s is None and llm_down.status == "LLM error"
    failed = answer_timing([_gen(11, "answering…"), _gen(12, "answering…", done=True, success=False)], 10.0)
    assert not failed.ok and failed.first_token_s == 1.0
    cut = answer_timing([_gen(11, "answering…")], 10.0)  # the stream ended without a completion
    assert not cut.ok and cut.status == "no answer"


def test_camera_stats_count_answers_and_texts():
    c = CameraStats()
    c.answer({"dropped": False, "text": "", "said": []}, 1.0)
    c.answer({"dropped": True, "text": "helo", "said": []}, 1.1)
    c.answer({"dropped": False, "text": "", "said": ["session-1 check ab"]}, 1.5)
    c.answer({"dropped": False, "error": "unreadable camera frame", "text": ""}, 2.5)
    assert (len(c.processed_at), c.dropped, c.errors) == (2, 1, ["unreadable camera frame"])
    assert c.texts == {"helo", "session-1 check ab"}
    assert c.fps(1.0, 2.0) == 2.0 and c.fps(1.2, 1.7) == 2.0 and c.fps(2.0, 2.0) == 0.0


def test_crosstalk_finds_foreign_and_missing_text():
    markers = {"s1": "s1 check aa", "s2": "s2 check bb", "s3": "s3 check cc"}
    seen = {"s1": {"s1 check aa", "helo"}, "s2": {"where s2 check bb"}, "s3": {"s3 check cc", "s1 check aa"}}
    assert crosstalk(seen, markers) == ["s3 saw s1's text 's1 check aa'"]
    assert crosstalk({"s1": set()}, {"s1": "s1 check aa"}) == ["s1 never saw its own text 's1 check aa'"]
    assert crosstalk({k: {v} for k, v in markers.items()}, markers) == []


def test_summary_and_table():
    assert summary([]) == "-" and summary([1.0, 3.0, 2.0]) == "2.00 (3.00)"
    rows = [Row(1, [14.0], [2.5], [8.0], 3, 0, [], [0.05], 1380.4, 40.0),
            Row(8, [3.0, 2.0, 4.0], [], [], 24, 2, ["s3 saw s1's text"], [0.2, 0.9], 2900.0, 240.0)]
    out = table(rows).splitlines()
    assert len(out) == 4 and out[0].count("|") == out[1].count("|") == out[2].count("|") == 11
    assert out[2] == "| 1 | 14.0 (14.0) | 2.50 (2.50) | 8.00 (8.00) | 1 / 3 | 0 | none | 0.05 (0.05) | 1380 MiB | 40 |"
    assert "| 3.0 (2.0) | - | - | 0 / 24 | 2 | 1 |" in out[3]
    json.dumps([r.__dict__ for r in rows])  # plain data
