"""`asl-gpt calibrate [--camera N | --video FILE ...] [--word WORD=VIDEO ...] [--profile NAME|FILE]`: teach the
recognizer your hand.

With --camera the letters are asked one by one in an OpenCV window (hold each about 1.5 s; J and Z:
trace them), then 3 short check words to spell (raise the hand, spell, drop it). Keys: k keeps a
flagged letter, r retakes, s skips a letter or word, n skips the check words, ESC stops (what was
captured is saved and can be resumed with --resume). With --video each file is one letter, named after
it (`A_0.mp4`, `b.mov`). `--word cat=cat.mp4` adds a check word you spelled on video. Check words read
as you would get them choose how strongly the profile adapts, and a profile that reads them worse is
not applied; without any, it is checked on your letters only. The profile (signing-hand landmarks and a
small adapter, never video) goes to ~/.asl_gpt/profiles/NAME.npz; `asl-gpt recognize|live --profile
NAME` use it.
"""

from __future__ import annotations

import argparse
import sys

from asl_gpt.config import add_model_argument
from asl_gpt.words import ALPHABET

ESC = 27


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    src.add_argument("--video", nargs="+", metavar="FILE", help="one video per letter, named after it (A_0.mp4)")
    p.add_argument("--profile", default="profile", help="profile name under the state folder, or a file (default: profile)")
    p.add_argument("--letters", default=ALPHABET, help="letters to ask for (default: all)")
    p.add_argument("--resume", action="store_true", help="add to the existing profile instead of starting afresh")
    p.add_argument("--word", action="append", default=[], metavar="WORD=VIDEO",
                   help="a check word you spelled and its video (repeatable): the profile must read these no worse")
    add_model_argument(p)


def run(args, settings) -> int:
    from asl_gpt.recognition import calibration as cal
    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.holistic import extract_recording
    from asl_gpt.recognition.pipeline import committed_reading_for
    from asl_gpt.recognition.recognizer import calibratable_recognizer

    specs = word_specs(args.word)  # a bad spec fails before the model loads
    rec = calibratable_recognizer(settings, args.model)
    path = cal.resolve_profile(args.profile, settings.paths.state_dir)
    profile = cal.Profile(rec.contract.name, rec.fingerprint)
    if args.resume and path.is_file():
        old = cal.load_profile(path)
        problem = cal.check_model(old, rec.contract.name, rec.fingerprint)
        if problem:
            raise InputError(problem)
        profile = old
        print(f"resuming {path}: {old.summary()}")
    read = committed_reading_for(settings, rec)
    words = [(w, *extract_recording(f, max_side=settings.recognizer.max_side)) for w, f in specs]
    if args.video:
        profile = _from_videos(args.video, rec, profile, settings, words, read)
    else:
        profile = _from_camera(args.camera, args.letters, rec, profile, words, read)
    cal.save_profile(profile, path)
    print(f"profile {path}: {profile.summary()}")
    if profile.check is not None and not profile.check.applied and _discard(path):
        return 0
    if profile.missing:
        print(f"missing letters: {profile.missing.upper()} (add them with --resume --letters {profile.missing})")
    return 0


def word_specs(specs: list[str]) -> list[tuple[str, str]]:
    """`--word WORD=VIDEO` values -> (word, video); InputError (one line) for a malformed one or a missing video."""
    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.video import probe

    out = []
    for spec in specs:
        word, sep, video = spec.partition("=")
        word = word.strip().lower()
        if not sep or not video or not (word.isascii() and word.isalpha()):
            raise InputError(f"--word {spec!r}: give WORD=VIDEO, the word in letters a-z (e.g. --word cat=cat.mp4)")
        probe(video)  # a missing or unreadable file fails before any work
        out.append((word, video))
    return out


def _discard(path) -> bool:
    """The self-check found the profile reads the user's own letters worse: offer to delete it (asked only at a
    terminal; elsewhere it stays saved, never applied, and the line says how to remove it)."""
    if not sys.stdin.isatty():
        print(f"it is kept but never applied; delete {path} to discard it")
        return False
    if input("discard this profile? [y/N] ").strip().lower() not in ("y", "yes"):
        return False
    path.unlink(missing_ok=True)
    print(f"discarded {path}")
    return True


def _from_videos(files: list[str], rec, profile, settings, words=(), read=None):
    from pathlib import Path

    from asl_gpt.recognition import calibration as cal
    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.holistic import extract_recording
    from asl_gpt.landmarks.video import probe

    jobs = []
    for f in files:
        letter = Path(f).stem[:1].lower()
        if letter not in cal.LETTERS:
            raise InputError(f"{f}: name each video after its letter (A_0.mp4, b.mov)")
        probe(f)  # a missing or unreadable file fails before any work
        jobs.append((letter, f))
    recordings = [(letter, *extract_recording(f, max_side=settings.recognizer.max_side)) for letter, f in jobs]
    profile, takes = cal.profile_from_recordings(recordings, rec, rec.contract.name, rec.fingerprint, profile=profile,
                                                 words=words, read_word=read if words else None)
    for take in takes:
        if take.problem:
            print(f"  {take.problem}")
        else:
            print(f"  {take.letter.upper()}: {take.frames} steady frames of {take.seconds:.1f} s, read as "
                  f"{take.read_as.upper()} by the shipped model in {take.agreement:.0%}")
    return profile


def _from_camera(camera: int, letters: str, rec, profile, words=(), read=None):
    import cv2

    from asl_gpt.recognition import calibration as cal
    from asl_gpt.landmarks.holistic import HolisticExtractor
    from asl_gpt.landmarks.video import read_camera
    from asl_gpt.recognition.overlay import draw_landmarks

    todo = "".join(c for c in letters.lower() if c in cal.LETTERS and c not in profile.samples) or letters.lower()
    capture = cal.GuidedCapture(rec, profile, todo, read_word=read)
    extractor = HolisticExtractor(face=False)
    try:
        for frame in read_camera(camera):
            h, w = frame.rgb.shape[:2]
            lm = extractor(frame.rgb)
            s = capture.feed(frame.t_ms, lm, w / h)
            img = draw_landmarks(frame.rgb.copy(), lm)
            _draw_prompt(cv2, img, s)
            cv2.imshow("ASL GPT calibrate (ESC stops)", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            key = cv2.waitKey(1) & 0xFF
            if key == ESC or s.phase == "done":
                break
            if key == ord("k"):
                capture.keep()
            elif key == ord("r"):
                capture.retake()
            elif key == ord("s"):
                capture.skip()
            elif key == ord("n"):
                capture.skip_words()
    except KeyboardInterrupt:  # Ctrl-C: like ESC, what was captured is kept (resume with --resume)
        print("interrupted: saving the letters captured so far", file=sys.stderr)
    finally:
        extractor.close()
        cv2.destroyAllWindows()
    return capture.finish(words)


def _draw_prompt(cv2, img, s) -> None:
    h, w = img.shape[:2]
    if s.letter:
        what = "trace it" if s.letter in "jz" else "hold it"
        cv2.putText(img, f"{s.letter.upper()}  ({what})", (16, 56), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 3)
        cv2.rectangle(img, (16, 70), (16 + int((w - 32) * s.progress), 82), (80, 200, 120), -1)
    if s.word:
        cv2.putText(img, f"spell: {s.word.upper()}  (then drop your hand)", (16, 56), cv2.FONT_HERSHEY_SIMPLEX, 1.2,
                    (255, 255, 255), 3)
        cv2.rectangle(img, (16, 70), (16 + int((w - 32) * s.progress), 82), (80, 200, 120), -1)
        cv2.putText(img, "s: skip this word   n: no check words", (16, 110), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                    (255, 220, 0), 2)
    if s.phase == "flagged":
        cv2.putText(img, "k: keep   r: retake   s: skip", (16, 110), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 220, 0), 2)
    if s.message:
        cv2.putText(img, s.message[:70], (16, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2)
