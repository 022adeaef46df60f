"""Every rule of the pending box's state machine, with time passed in (no browser, no buffer)."""

from asl_gpt.app.pending import Decision, PendingOptions, PendingText, Phase, Turn


def make() -> PendingText:
    return PendingText(PendingOptions(sent_ms=1000))


def test_recognition_fills_an_untouched_box_and_auto_send_labels_it_signed():
    p = make()
    rev0 = p.view().box_rev
    p.recognised("where can", 0.8, False, 100)
    v = p.view()
    assert (v.phase, v.box, v.recognised) == (Phase.RECOGNISED, "where can", "where can") and v.box_rev > rev0
    d = p.committed("where can", 0.8, False, 200)
    assert d.turn == Turn("where can", "signed", "where can", 0.8, False) and d.hold is False
    assert p.view().phase is Phase.SENT and p.view().box == "" and p.view().sent == "where can"
    p.tick(1300)
    assert p.phase is Phase.LISTENING


def test_recognition_never_overwrites_an_edit_and_the_edit_is_labelled_edited():
    p = make()
    p.recognised("wherecan I", 0.7, False, 100)
    p.recognised("wherecan I l", 0.6, False, 120)  # not yet applied in the browser when the user clicked
    assert p.focus("wherecan I", 150) == Decision(hold=True)  # focusing already holds auto-send off
    assert p.edit("where can I", 200).hold is True
    rev = p.view().box_rev
    for i, t in enumerate(("wherecan I larn", "wherecan I larn AS", "")):
        p.recognised(t, 0.9, False, 300 + i)
        v = p.view()
        assert v.box == "where can I" and v.box_rev == rev and v.recognised == t  # caption shows it, box untouched
    d = p.committed("x", 0.9, False, 400)  # a commit racing the first keystroke: sent as signed, box kept
    assert d.turn.source == "signed" and d.hold is None and p.view().box == "where can I"
    p.blur("where can I learn", 500)
    assert p.phase is Phase.EDITING  # a changed box stays the user's after they leave it
    d = p.send("where can I  learn", 600)
    assert d.turn == Turn("where can I learn", "edited", "wherecan I", 0.6, False)
    assert d.clear_buffer and d.hold is False and not d.commit_buffer
    assert p.view().box == "" and p.phase is Phase.SENT


def test_text_typed_into_an_empty_box_is_typed_without_confidence():
    p = make()
    p.edit("w", 0)
    p.edit("what is asl", 30)
    p.recognised("zz", 0.9, False, 40)
    d = p.send("what is asl", 50)
    assert d.turn == Turn("what is asl", "typed") and d.turn.confidence is None and d.clear_buffer


def test_focus_and_leave_unchanged_hands_the_box_back_to_recognition():
    p = make()
    p.recognised("hello", 0.9, False, 0)
    p.focus("hello", 10)
    p.recognised("hello there", 0.9, False, 20)
    assert p.view().box == "hello"
    assert p.blur("hello", 30) == Decision(hold=False)
    assert p.view().phase is Phase.RECOGNISED and p.view().box == "hello there"
    p.focus("hello there", 40)
    d = p.send("hello there", 50)  # focused but untouched: still signed, committed through the buffer
    assert d.commit_buffer and d.turn is None
    assert p.committed("hello there", 0.9, False, 60).turn.source == "signed"


def test_an_edit_the_server_had_not_heard_of_is_still_an_edit():
    p = make()
    p.recognised("helo", 0.8, False, 0)
    d = p.send("hello", 10)  # the browser's box differs from what was shown: the user typed
    assert d.turn == Turn("hello", "edited", "helo", 0.8, False) and not d.commit_buffer


def test_late_blur_or_edit_of_the_sent_text_does_not_reopen_an_edit():
    p = make()
    p.edit("what is asl", 0)
    p.send("what is asl", 10)
    assert p.blur("what is asl", 20) == Decision() and p.edit("what is asl", 21) == Decision()
    assert p.phase is Phase.SENT
    p.recognised("hi", 0.9, False, 30)
    assert p.view().box == "hi" and p.phase is Phase.RECOGNISED


def test_typing_into_signed_text_that_just_left_keeps_its_origin():
    p = make()
    p.recognised("where can i", 0.8, False, 0)
    p.committed("where can i", 0.8, False, 10)
    p.edit("where can i learn", 20)  # the browser still showed the sent text
    assert p.send("where can i learn", 30).turn.source == "edited"
    p.tick(2000)
    p.edit("hello", 2100)  # a fresh box after the sent text was cleared
    assert p.send("hello", 2200).turn.source == "typed"


def test_restore_shows_exactly_the_rejected_reading_marked_low():
    p = make()
    p.recognised("t", 0.9, False, 0)
    p.restored("leba", 0.31, 10)
    v = p.view()
    assert (v.box, v.recognised, v.confidence, v.low_confidence) == ("leba", "leba", 0.31, True)
    d = p.send("leba", 20)
    assert d.commit_buffer
    assert p.committed("leba", 0.31, True, 30).turn == Turn("leba", "signed", "leba", 0.31, True)


def test_delete_word_clear_and_empty_send():
    p = make()
    p.recognised("where is the", 0.9, False, 0)
    text, d = p.delete_last_word("where is the", 10)  # untouched: deleted in the buffer, still signed
    assert text == "where is" and d == Decision(drop_last_word=True) and p.phase is Phase.RECOGNISED
    p.recognised("where is", 0.9, False, 11)
    p.edit("where is it", 12)
    text, d = p.delete_last_word("where is it", 13)  # the user's text: an edit
    assert text == "where is" and d.hold is True and p.phase is Phase.EDITING and p.view().box == "where is"
    assert p.send("where is", 20).commit_buffer  # back to exactly what was recognised: signed
    p.recognised("abc", 0.9, False, 2000)
    d = p.clear(2010)
    assert d.clear_buffer and d.hold is False and p.view().box == "" and p.phase is Phase.LISTENING
    assert p.send("   ", 2020).reason.startswith("nothing to send")


def test_text_pending_when_the_camera_stops_is_kept_unsent_until_the_user_acts():
    p = make()
    p.recognised("what is", 0.8, False, 0)
    d = p.camera_stopped(10)
    assert d == Decision(hold=True, clear_buffer=True) and p.phase is Phase.KEPT and p.view().box == "what is"
    rev = p.view().box_rev
    p.recognised("asl", 0.9, False, 20)  # signing after the camera restarts: the caption, never the box
    p.tick(5000)
    v = p.view()
    assert (v.phase, v.box, v.box_rev, v.recognised) == (Phase.KEPT, "what is", rev, "asl")
    assert p.camera_stopped(30) == Decision()  # stopping again changes nothing
    p.focus("what is", 40)
    assert p.blur("what is", 50) == Decision(hold=True) and p.phase is Phase.KEPT  # looked at, left unchanged
    d = p.send("what is", 60)  # Send asks the kept reading as it was read
    assert d.turn == Turn("what is", "signed", "what is", 0.8, False) and d.hold is False and not d.clear_buffer
    assert not d.commit_buffer and p.phase is Phase.SENT
    p.recognised("asl", 0.9, False, 70)  # what was signed meanwhile is the next utterance
    assert p.view().box == "asl" and p.phase is Phase.RECOGNISED


def test_kept_text_edited_is_sent_as_edited_and_clear_drops_it():
    p = make()
    p.recognised("wher is", 0.7, False, 0)
    p.camera_stopped(10)
    p.edit("where is", 20)
    d = p.send("where is", 30)
    assert d.turn == Turn("where is", "edited", "wher is", 0.7, False) and d.clear_buffer
    p.recognised("abc", 0.9, False, 3000)
    p.camera_stopped(3010)
    d = p.clear(3020)
    assert d.clear_buffer and p.phase is Phase.LISTENING and p.view().box == ""
    assert p.send("", 3030).reason.startswith("nothing to send")
    assert p.camera_stopped(3040) == Decision()  # nothing recognised: nothing to keep
