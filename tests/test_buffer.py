"""Every rule of the utterance buffer, with time passed in."""

from asl_gpt.recognition.buffer import BufferOptions, Committed, Partial, Rejected, UtteranceBuffer


def make(**kw) -> UtteranceBuffer:
    return UtteranceBuffer(BufferOptions(**{"min_confidence": 0.5, "end_pause_ms": 1000, "still_pause_ms": 2000, **kw}))


def kinds(events):
    return [type(e).__name__ for e in events]


def test_partial_shows_pending_text_and_confidence():
    b = make()
    ev = b.push("hel", 0.8, 0, 100, now_ms=100)
    assert ev == [Partial("hel", 0.8, False)]
    ev = b.push("hello", 0.9, 0, 200, now_ms=200)
    assert ev[-1].text == "hello" and b.text == "hello"


def test_low_confidence_partial_is_flagged():
    b = make()
    (p,) = b.push("xq", 0.2, 0, 100, now_ms=100)
    assert p.low_confidence and p.text == "xq"


def test_final_below_threshold_is_rejected_with_reason_and_never_committed():
    b = make()
    ev = b.push("zzz", 0.3, 0, 100, now_ms=100, final=True)
    assert isinstance(ev[0], Rejected) and "below the threshold" in ev[0].reason
    assert b.text == ""
    assert not [e for e in b.tick(5000, hands_visible=False) if isinstance(e, Committed)]
    assert b.send(5000) == [Rejected("", 0.0, "nothing to send")]


def test_commit_after_hands_out_of_view_for_the_pause():
    b = make()
    b.push("where", 0.9, 0, 900, now_ms=900, final=True)
    assert b.tick(1000, hands_visible=False) == []
    assert b.tick(1900, hands_visible=False) == []
    ev = b.tick(2000, hands_visible=False)
    assert isinstance(ev[0], Committed) and ev[0].text == "where" and ev[0].t_end == 900
    assert b.text == ""


def test_hands_back_in_view_resets_the_pause():
    b = make()
    b.push("where", 0.9, 0, 900, now_ms=900, final=True)
    b.tick(1000, hands_visible=False)
    b.tick(1500, hands_visible=True)
    assert b.tick(2100, hands_visible=False) == []


def test_segments_join_into_one_utterance_with_min_confidence():
    b = make()
    b.push("where", 0.9, 0, 900, now_ms=900, final=True)
    b.tick(1000, hands_visible=False)
    b.push("is", 0.7, 1200, 1500, now_ms=1500, final=True)
    (c, _) = b.tick(2600, hands_visible=False)
    assert c.text == "where is" and c.confidence == 0.7 and (c.t_start, c.t_end) == (0, 1500)


def test_commit_when_still_for_the_pause_with_hands_up():
    b = make()
    b.push("deaf", 0.9, 0, 500, now_ms=500)
    assert b.tick(2000, hands_visible=True) == []
    ev = b.tick(2600, hands_visible=True)
    assert [e for e in ev if isinstance(e, Committed)][0].text == "deaf"


def test_no_auto_commit_while_a_segment_is_open_and_changing():
    b = make()
    b.push("de", 0.9, 0, 500, now_ms=500)
    b.push("dea", 0.9, 0, 1500, now_ms=1500)
    b.push("deaf", 0.9, 0, 2400, now_ms=2400)
    assert b.tick(3000, hands_visible=True) == []


def test_auto_send_off_needs_explicit_send():
    b = make(auto_send=False)
    b.push("asl", 0.9, 0, 500, now_ms=500, final=True)
    assert b.tick(10_000, hands_visible=False) == []
    (c, _) = b.send(10_000)
    assert isinstance(c, Committed) and c.text == "asl"


def test_send_closes_open_segment_and_gates_it():
    b = make()
    b.push("ok", 0.9, 0, 500, now_ms=500, final=True)
    b.push("qq", 0.1, 600, 900, now_ms=900)
    ev = b.send(1000)
    assert kinds(ev)[:2] == ["Rejected", "Committed"]
    assert ev[1].text == "ok"


def test_empty_hypotheses_never_commit():
    b = make()
    b.push("", 0.99, 0, 100, now_ms=100, final=True)
    assert b.tick(9000, hands_visible=False) == []
    assert b.send(9000)[0].reason == "nothing to send"


def test_clear_delete_word_and_edit():
    b = make()
    b.push("where is gallaudet", 0.8, 0, 900, now_ms=900, final=True)
    b.push("now", 0.6, 1000, 1100, now_ms=1100, final=True)
    b.delete_last_word()
    assert b.text == "where is gallaudet" and b.confidence == 0.8  # still recognised, not made certain
    b.delete_last_word()
    assert b.text == "where is"
    b.edit("where is  hartford ")
    assert b.text == "where is hartford" and b.confidence == 1.0
    b.clear()
    assert b.text == "" and b.send(0)[0].reason == "nothing to send"


def test_restore_gives_back_exactly_the_rejected_reading_at_low_confidence():
    b = make()
    b.push("leba", 0.3, 0, 900, now_ms=900, final=True)
    b.push("t", 0.9, 1000, 1100, now_ms=1100, final=True)  # leftover text accepted after the rejection
    assert b.last_rejected and b.text == "t"
    (p,) = b.restore_rejected()
    assert p == Partial("leba", 0.3, True) and b.last_rejected is None  # no join with "t", no confidence 1
    assert b.tick(1200, hands_visible=False) == [] and b.tick(9000, hands_visible=False) == []  # never auto-sent
    (c, _) = b.send(9000)
    assert (c.text, c.confidence, c.t_start, c.t_end) == ("leba", 0.3, 0, 900)
    assert c.low_confidence  # decided here, once: the app labels the turn and the page draws it from this
    assert b.restore_rejected() == []


def test_edit_makes_low_confidence_text_sendable():
    b = make()
    b.push("stokoe", 0.2, 0, 900, now_ms=900, final=True)
    b.edit("stokoe")
    (c, _) = b.send(1000)
    assert c.text == "stokoe" and c.confidence == 1.0


def test_held_buffer_keeps_recognising_but_never_auto_commits():
    b = make()
    b.held = True
    b.push("where", 0.9, 0, 900, now_ms=900, final=True)
    b.push("can", 0.9, 1000, 1200, now_ms=1200, final=True)
    assert b.tick(1300, hands_visible=False) == [] and b.tick(9000, hands_visible=False) == []
    assert b.tick(20000, hands_visible=True) == [] and b.text == "where can"
    b.held = False
    assert kinds(b.tick(20001, hands_visible=False)) == []  # the pause starts again from now on
    assert kinds(b.tick(30000, hands_visible=False)) == ["Committed", "Partial"]


def test_max_chars_cuts_at_a_word_boundary():
    b = make(max_chars=12)
    b.push("hello there friend", 0.9, 0, 100, now_ms=100, final=True)
    assert len(b.text) <= 12 and b.text == "hello there"


def test_threshold_change_applies_to_next_segment():
    b = make()
    b.set_options(BufferOptions(min_confidence=0.95))
    assert isinstance(b.push("asl", 0.9, 0, 100, now_ms=100, final=True)[0], Rejected)


def test_runtime_options_take_every_setting_of_the_same_name():
    """An option is declared once (RecognizerConfig) and reaches StreamOptions/BufferOptions/LiveOptions by name."""
    from dataclasses import fields

    from asl_gpt.app.live import LiveOptions
    from asl_gpt.config import load_settings
    from asl_gpt.recognition.pipeline import buffer_options, options_from, stream_options
    from asl_gpt.recognition.streaming import StreamOptions

    settings = load_settings(env={}, recognizer={"stride_frames": 3, "drop_frames": 9, "min_segment_frames": 2,
                                                 "max_fps": 20.0, "trim_rise_drop": False, "end_pause_ms": 700.0,
                                                 "still_pause_ms": 4000.0, "auto_send": False, "max_chars": 80,
                                                 "max_side": 320})
    cfg = settings.recognizer
    for opts in (stream_options(settings), buffer_options(settings, min_confidence=0.3),
                 options_from(LiveOptions, cfg)):
        shared = [f.name for f in fields(opts) if hasattr(cfg, f.name)]
        assert shared and all(getattr(opts, n) == getattr(cfg, n) for n in shared), (type(opts), shared)
    assert buffer_options(settings, min_confidence=0.3).min_confidence == 0.3
    assert StreamOptions().stride_frames == type(cfg)().stride_frames  # the defaults are the settings' own


def test_sends_in_says_when_a_pause_will_send_and_none_when_nothing_will():
    b = UtteranceBuffer(BufferOptions(min_confidence=0.5, end_pause_ms=1000))
    assert b.sends_in(0) is None  # nothing pending
    b.push("what", 0.9, 0, 100, 100, final=True)
    b.tick(100, True)
    assert b.sends_in(200) is None  # the hand is still up
    b.tick(300, False)
    assert b.sends_in(800) == 500.0
    b.held = True
    assert b.sends_in(800) is None  # the user edits: no pause sends
    b.held = False
    b.set_options(BufferOptions(min_confidence=0.95, end_pause_ms=1000))
    assert b.sends_in(800) is None  # below the threshold: only Send sends it
    b.set_options(BufferOptions(min_confidence=0.5, end_pause_ms=1000, auto_send=False))
    assert b.sends_in(800) is None
    b.set_options(BufferOptions(min_confidence=0.5, end_pause_ms=1000))
    assert [type(e).__name__ for e in b.tick(1300, False)][0] == "Committed" and b.sends_in(1300) is None
