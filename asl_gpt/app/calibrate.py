"""The Calibrate panel's logic: guided capture over the live session's frames, profiles saved and chosen.

The panel (asl_gpt.app.ui) calls these; the capture itself is asl_gpt.calibration.GuidedCapture,
fed by the session's worker with each frame's landmarks (asl_gpt.app.live). A profile chosen here is
used by this browser session only: its LiveSession reads through a CalibratedRecognizer over the
shared model, other sessions keep theirs.
"""

from __future__ import annotations

import html
import json
import logging
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from asl_gpt import calibration as cal
from asl_gpt.errors import AslGptError, InputError
from asl_gpt.overlay import HAND_EDGES

log = logging.getLogger(__name__)

NONE = "(none: the shipped model)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@lru_cache(maxsize=1)
def reference_hands() -> dict[str, list]:
    """letter -> 21 [x, y] points of the reference handshape (asl_gpt.training.handshapes.reference_hands)."""
    text = resources.files("asl_gpt.app").joinpath("reference_hands.json").read_text()
    return json.loads(text)["hands"]


def reference_svg(letter: str, size: int = 150) -> str:
    """The letter's reference handshape drawn like the overlay (green bones, white joints), as the
    camera shows a right hand; '' when there is none."""
    pts = reference_hands().get(letter)
    if not pts:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    pad = 0.12 * span
    scale = size / (span + 2 * pad)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    # mirrored, as the page shows you
    p = [((-(x - cx)) * scale + size / 2, (y - cy) * scale + size / 2) for x, y in pts]
    bones = "".join(f'<line x1="{p[a][0]:.1f}" y1="{p[a][1]:.1f}" x2="{p[b][0]:.1f}" y2="{p[b][1]:.1f}"/>'
                    for a, b in HAND_EDGES)
    joints = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in p)
    return (f'<svg class="calib-hand" viewBox="0 0 {size} {size}" width="{size}" height="{size}" role="img" '
            f'aria-label="reference handshape for {letter.upper()}"><rect width="{size}" height="{size}" rx="8" '
            f'fill="#111"/><g stroke="#28dc5a" stroke-width="3" stroke-linecap="round">{bones}</g>'
            f'<g fill="#fff">{joints}</g></svg>')


def prompt_html(state: cal.CaptureState | None, calibrating: bool) -> str:
    """What the panel shows: the letter asked, its reference handshape, the hold's progress, the last outcome."""
    if state is None or not calibrating:
        return ("<div class='calib'><p>Press <b>Start</b>, then hold each letter to the camera for about 1.5 s "
                "(J and Z: trace them). Nothing is recorded but your hand's landmarks. To redo some letters "
                "later, put them in <b>Letters</b> and press <b>Start</b> with the same profile name.</p></div>")
    msg = f"<p class='calib-msg'>{html.escape(state.message)}</p>" if state.message else ""
    done = f"<p>Done: {html.escape(state.done.upper() or 'none yet')} ({len(state.done)}/26)</p>"
    if state.phase == "done":
        return f"<div class='calib'><p><b>Every letter asked.</b> Press <b>Finish and save</b>.</p>{msg}{done}</div>"
    what = {"ready": "Raise your hand and show", "holding": "Hold", "flagged": "Keep or retake"}[state.phase]
    how = "trace it" if state.letter in cal.MOTION_LETTERS else "hold it still"
    bar = (f"<div class='meter' role='progressbar' aria-valuemin='0' aria-valuemax='100' "
           f"aria-valuenow='{round(state.progress * 100)}'><div class='meter-fill' "
           f"style='width:{state.progress * 100:.0f}%'></div></div>")
    return (f"<div class='calib' data-phase='{state.phase}' data-letter='{state.letter}'>"
            f"<div class='calib-row'>{reference_svg(state.letter)}<div><p>{what}</p>"
            f"<p class='calib-letter'>{state.letter.upper()}</p><p>({how})</p></div></div>{bar}{msg}{done}</div>")


def profile_path(services, name: str) -> Path:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise InputError("a profile name is 1-40 letters, digits, '-' or '_'")
    return cal.default_profile_path(services.settings.paths.state_dir, name)


def profile_names(services) -> list[str]:
    return [NONE] + [p.stem for p in cal.list_profiles(services.settings.paths.state_dir)]


def new_capture(services, letters: str, resume_name: str = "") -> cal.GuidedCapture:
    """A capture for `letters` (default all), resuming the named profile when it exists for this model."""
    rec = services.recognizer()
    if not getattr(rec, "calibratable", False):
        raise InputError(f"model {rec.contract.name!r} cannot be calibrated")
    profile = cal.Profile(rec.contract.name, rec.fingerprint)
    if resume_name:
        path = profile_path(services, resume_name)
        if path.is_file():
            try:
                old = cal.load_profile(path)
                if not cal.check_model(old, rec.contract.name, rec.fingerprint):
                    profile = old
            except cal.ProfileError:
                pass  # a damaged file is replaced by the new profile
    todo = "".join(c for c in (letters or cal.LETTERS).lower() if c in cal.LETTERS)
    if not todo:
        raise InputError("letters to calibrate: give some of A-Z")
    return cal.GuidedCapture(rec, profile, todo)


def autosave(services, live) -> None:
    """Keep the letters the session's capture has accepted so far (unfitted) under its profile name, so a
    closed tab loses nothing: Start with the same name resumes. A failure is logged; the capture goes on."""
    cap = live.capture
    if cap is None or not cap.profile.samples or cap.profile.letters == live.capture_saved:
        return
    try:
        cal.save_profile(cap.profile, profile_path(services, live.capture_name))
        live.capture_saved = cap.profile.letters
    except (OSError, InputError) as e:
        log.warning("could not keep the calibration so far: %s", e)


def save_and_use(services, live, capture: cal.GuidedCapture, name: str) -> str:
    """Fit, save under `name`, and read with it in this session if it helps; one line for the user."""
    path = profile_path(services, name)
    profile = capture.finish()
    cal.save_profile(profile, path)
    msg = use_profile(services, live, name)
    return f"Saved profile {name!r}: {profile.summary()}. {msg}"


def use_profile(services, live, name: str) -> str:
    """Read this session with the named profile (NONE: the shipped model). Never raises: a profile that
    cannot be used leaves the shipped model reading and says why."""
    from asl_gpt.recognizer import with_profile_file

    try:
        rec = services.recognizer()
    except AslGptError as e:
        return f"No model: {e}"
    if not name or name == NONE:
        live.use_recognizer(rec)
        return "This session reads with the shipped model."
    try:
        path = profile_path(services, name)
    except InputError as e:
        live.use_recognizer(rec)
        return f"Not used: {e}. This session reads with the shipped model."
    view, problem = with_profile_file(rec, path)
    live.use_recognizer(view, None if problem else name)
    return f"Not used: {problem}." if problem else f"This session now reads with profile {name!r}."


def describe(services, name: str) -> str:
    if not name or name == NONE:
        return "The shipped model, uncalibrated."
    try:
        p = cal.load_profile(profile_path(services, name))
    except (cal.ProfileError, InputError) as e:
        return f"⚠ {e}"
    return f"**{name}**: {p.summary()}" + (f"; missing {p.missing.upper()}" if p.missing else "")


def delete_profile(services, live, name: str) -> str:
    if not name or name == NONE:
        return "Choose a saved profile to delete."
    path = profile_path(services, name)
    path.unlink(missing_ok=True)
    if live.profile == name:
        use_profile(services, live, NONE)
    return f"Deleted profile {name!r}."
