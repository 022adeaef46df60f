"""The Calibrate panel's logic over live sessions: frames teach instead of being read, profiles per session."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from asl_gpt.recognition import calibration as cal
from asl_gpt.app import calibrate as calib
from asl_gpt.app.live import LiveOptions, LiveSession
from asl_gpt.recognition.buffer import BufferOptions
from asl_gpt.errors import InputError
from asl_gpt.recognition.streaming import StreamOptions
from fakes import FakeClock, FakeExtractor, FakeRecognizer, LinearReader, feed, toy_profile, wait


def test_every_letter_has_a_reference_handshape_where_the_thumb_can_be_told_apart():
    for c in cal.LETTERS:
        front = calib.reference_svg(c).split("</svg>")[0]
        # a filled palm, 16 finger bones (each outlined), a dot at each of the 5 tips, the thumb in its own colour
        assert front.startswith("<svg") and front.count("<polygon") == 1 and front.count("<line") == 32
        assert front.count("<circle") == 5 and front.count(calib.THUMB_COLOUR) == 5
    fists = {c: calib.reference_svg(c) for c in "asemnt"}  # thumb beside, over or under the fingers
    assert len(set(fists.values())) == 6
    assert "calib-side" not in fists["a"]  # beside the fingers: the front shows it
    assert all("calib-side" in fists[c] for c in "semnt")  # within their width: a side view shows in front or behind


def test_the_prompt_escapes_messages_and_names_the_letter():
    s = cal.CaptureState("m", "flagged", 0.5, "ab", "<img src=x onerror=alert(1)>")
    page = calib.prompt_html(s, True)
    assert "<img src=x" not in page and "&lt;img" in page
    assert "data-letter='m'" in page and ">M<" in page and "Keep or retake" in page
    assert "Start" in calib.prompt_html(None, False)


def test_the_prompt_counts_the_chosen_letters_and_says_when_the_camera_is_off():
    s = cal.CaptureState("l", "ready", 0.0, "abcz", "")
    page = calib.prompt_html(s, True, "ably", camera_on=False)
    assert "Done: AB (2/4)" in page and "/26" not in page
    assert "The camera is off" in page and "data-cam-start" in page
    assert "camera is off" not in calib.prompt_html(s, True, "ably", camera_on=True)
    assert "(4/26)" in calib.prompt_html(s, True)  # every letter when none were chosen


def test_the_prompt_asks_for_a_check_word_once_the_letters_are_done():
    s = cal.CaptureState("", "word", 0.4, "abc", "C: kept", word="cat", words_done=1)
    page = calib.prompt_html(s, True, "abc")
    assert "data-phase='word'" in page and "CAT" in page and "1 word(s) spelled" in page and "Skip letter" in page


def test_profile_names_cannot_leave_the_profiles_folder(tmp_path):
    services = SimpleNamespace(settings=SimpleNamespace(paths=SimpleNamespace(state_dir=tmp_path)))
    for bad in ("../x", "/etc/passwd", "", "a" * 41, "a b"):
        with pytest.raises(InputError):
            calib.profile_path(services, bad)
    assert calib.profile_path(services, "anna-2") == tmp_path / "profiles" / "anna-2.npz"


def test_frames_teach_the_capture_and_are_not_read_while_calibrating():
    clock = FakeClock()
    live = LiveSession(FakeRecognizer("calibration letters"), FakeExtractor,
                       StreamOptions(stride_frames=2, drop_frames=2, min_segment_frames=2),
                       BufferOptions(min_confidence=0.5, end_pause_ms=100), LiveOptions(idle_stop_s=5.0), clock=clock)
    capture = cal.GuidedCapture(LinearReader(), cal.Profile("fake", "id"), "ab")
    live.start_calibration(capture)
    feed(live, clock, [True] * 30, gap_s=0.06)  # about 2 s of a still hand: one take
    assert capture.last_take is not None  # the worker fed the capture
    assert live.state().text == "" and not live.take_outgoing()  # nothing was read or sent meanwhile
    assert live.with_capture(lambda c: c.skip()).letter in ("b", "")  # the UI's actions run under the worker's lock
    assert live.stop_calibration() is capture and live.capture is None
    assert live.with_capture(lambda c: c.skip()) is None
    feed(live, clock, [True] * 6 + [False] * 4)

    def read_again() -> bool:  # the reading arrives on another thread; a frame collects it
        feed(live, clock, [False], gap_s=0.05)
        return "calibration" in live.state().text + " ".join(live.state().said)
    wait(read_again, every_s=0)  # reading again
    live.close()


class ShippedServices:
    def __init__(self, tmp_path, rec):
        from asl_gpt.config import RecognizerConfig

        self.settings = SimpleNamespace(paths=SimpleNamespace(state_dir=tmp_path), recognizer=RecognizerConfig())
        self.rec = rec

    def recognizer(self, retry=False):
        return self.rec



def test_two_sessions_two_profiles_no_cross_talk(tmp_path, shipped):
    from asl_gpt.recognition.recognizer import CalibratedRecognizer

    services = ShippedServices(tmp_path, shipped)
    fitted = cal.fit_profile(toy_profile(n=6), shipped)
    mine = cal.Profile("default", shipped.fingerprint, fitted.samples, fitted.adapter, cal.SelfCheck(0.5, 0.9, 10, 26, 0.1))
    cal.save_profile(mine, calib.profile_path(services, "anna"))
    cal.save_profile(cal.Profile("default", "another model"), calib.profile_path(services, "old"))
    a, b = (LiveSession(shipped, FakeExtractor, StreamOptions(), BufferOptions()) for _ in range(2))
    assert "now reads with profile 'anna'" in calib.use_profile(services, a, "anna")
    assert "Not used" in calib.use_profile(services, b, "old")  # made for another model: the shipped one reads
    assert isinstance(a.recognizer, CalibratedRecognizer) and a.profile == "anna"
    assert b.recognizer is shipped and b.profile is None
    assert calib.profile_names(services) == [calib.NONE, "anna", "old"]
    assert "26/26 letters" in calib.describe(services, "anna")
    assert "Deleted" in calib.delete_profile(services, a, "anna")
    assert a.recognizer is shipped and a.profile is None  # its profile is gone: back to the shipped model
    assert calib.profile_names(services) == [calib.NONE, "old"]
    for s in (a, b):
        s.close()


def test_a_capture_resumes_the_named_profile_of_this_model(tmp_path, shipped):
    services = ShippedServices(tmp_path, shipped)
    partial = cal.Profile("default", shipped.fingerprint).with_letter("a", np.zeros((8, 21, 3), np.float32) + 0.1)
    cal.save_profile(partial, calib.profile_path(services, "me"))
    cap = calib.new_capture(services, "ab", "me")
    assert cap.profile.letters == "a" and cap.queue == ["a", "b"]
    live = LiveSession(shipped, FakeExtractor, StreamOptions(), BufferOptions())
    live.start_calibration(cap, "me")
    calib.autosave(services, live)  # nothing new: the file is left as it was
    cap.profile = cap.profile.with_letter("b", np.zeros((8, 21, 3), np.float32) + 0.2)
    calib.autosave(services, live)  # a letter accepted: kept at once (a closed tab would lose nothing)
    assert cal.load_profile(calib.profile_path(services, "me")).letters == "ab"
    live.close()
    assert calib.new_capture(services, "", "nobody").profile.letters == ""
    with pytest.raises(InputError):
        calib.new_capture(services, "123", "")


def test_finish_with_no_letter_kept_saves_nothing(tmp_path, shipped):
    services = ShippedServices(tmp_path, shipped)
    live = LiveSession(shipped, FakeExtractor, StreamOptions(), BufferOptions())
    cap = calib.new_capture(services, "ab", "")
    assert calib.save_and_use(services, live, cap, "empty") == calib.NOTHING_KEPT
    assert calib.profile_names(services) == [calib.NONE] and live.profile is None
    live.close()
