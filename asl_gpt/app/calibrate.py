"""The Calibrate panel's logic: guided capture over the live session's frames, profiles saved and chosen.

The panel (asl_gpt.app.ui) calls these; the capture itself is asl_gpt.recognition.calibration.GuidedCapture,
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

from asl_gpt.recognition import calibration as cal
from asl_gpt.errors import AslGptError, InputError

log = logging.getLogger(__name__)

NONE = "(none: the shipped model)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@lru_cache(maxsize=1)
def reference_hands() -> dict[str, list]:
    """letter -> 21 [x, y, z] points of the reference handshape (asl_gpt.training.handshapes.reference_hands)."""
    text = resources.files("asl_gpt.app").joinpath("reference_hands.json").read_text()
    return json.loads(text)["hands"]


# A hand drawn as a stick figure hides what tells A, S, E, M, N and T apart: where the thumb lies (beside,
# over or under the fingers). So the palm is filled, each finger has its own colour (index to little
# finger: green to violet, the order visible), the thumb is orange, and parts nearer the camera are drawn
# over those behind (the reference's own depth). Where the thumb lies within the fingers' width, a side view
# beside it shows whether it is in front of them or behind.
THUMB, FINGERS = (1, 2, 3, 4), ((5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
THUMB_COLOUR = "#ff8c1a"
FINGER_COLOURS = ("#2bd65c", "#1fc8b4", "#3ab4f2", "#a98bfa")  # index, middle, ring, little
PALM = (0, 1, 5, 9, 13, 17)


def _parts() -> list[tuple[tuple[int, int], str]]:
    """(bone, colour) for every bone of the hand."""
    out = [((a, b), THUMB_COLOUR) for a, b in zip((0,) + THUMB, THUMB)]
    for chain, colour in zip(FINGERS, FINGER_COLOURS):
        out += [((a, b), colour) for a, b in zip(chain, chain[1:])]
    return out


def _view_svg(p: list[tuple[float, float, float]], w: float, h: float, label: str, cls: str) -> str:
    """Points already projected (u, v, depth: larger is farther) -> the filled palm and the bones, far first."""
    items = [(sum(p[i][2] for i in PALM) / len(PALM), "palm", None, "")]
    items += [((p[a][2] + p[b][2]) / 2, "bone", (a, b), colour) for (a, b), colour in _parts()]
    body = []
    for _, kind, bone, colour in sorted(items, key=lambda it: -it[0]):
        if kind == "palm":
            pts = " ".join(f"{p[i][0]:.1f},{p[i][1]:.1f}" for i in PALM)
            body.append(f'<polygon points="{pts}" fill="#5b6474" stroke="#d4d4d8" stroke-width="1.5" '
                        'stroke-linejoin="round"/>')
            continue
        a, b = bone
        xy = f'x1="{p[a][0]:.1f}" y1="{p[a][1]:.1f}" x2="{p[b][0]:.1f}" y2="{p[b][1]:.1f}"'
        body.append(f'<line {xy} stroke="#111" stroke-width="10"/><line {xy} stroke="{colour}" stroke-width="6"/>')
        if b in (4, 8, 12, 16, 20):  # the tip: a dot, so a finger's end shows where it lies
            body.append(f'<circle cx="{p[b][0]:.1f}" cy="{p[b][1]:.1f}" r="4" fill="{colour}" stroke="#111"/>')
    return (f'<svg class="calib-hand {cls}" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" role="img" '
            f'aria-label="{label}"><rect width="{w:.0f}" height="{h:.0f}" rx="8" fill="#111"/>'
            f'<g stroke-linecap="round">{"".join(body)}</g></svg>')


def reference_svg(letter: str, size: int = 150) -> str:
    """The letter's reference handshape as the camera shows a right hand (mirrored, like the page), plus a side
    view where the thumb lies within the fingers' width; '' when there is none."""
    pts = reference_hands().get(letter)
    if not pts:
        return ""
    pts = [(x, y, (q[0] if q else 0.0)) for x, y, *q in pts]
    xs, ys, zs = ([q[i] for q in pts] for i in range(3))
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    pad = 0.15 * span
    scale = size / (span + 2 * pad)
    cx, cy, cz = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2, (max(zs) + min(zs)) / 2
    front = [(-(x - cx) * scale + size / 2, (y - cy) * scale + size / 2, z) for x, y, z in pts]  # mirrored
    name = letter.upper()
    out = _view_svg(front, size, size, f"reference handshape for {name}, as your camera shows it; thumb in orange",
                    "calib-front")
    inside = min(xs[5], xs[17]) < xs[4] < max(xs[5], xs[17])
    if inside and any(zs):
        # From the thumb's side: the camera is on the left, so a thumb in front of the fingers is left of them.
        w = max(60.0, (max(zs) - min(zs) + 2 * pad) * scale)
        side = [((z - cz) * scale + w / 2, (y - cy) * scale + size / 2, -x) for x, y, z in pts]
        out += _view_svg(side, w, size, f"{name} from the thumb's side, the camera on the left: "
                         "is the thumb in front of the fingers or behind them", "calib-side")
    return out


CAMERA_OFF = ("<p class='calib-camera'>The camera is off: the letters are taught by your camera's frames. "
              "<button type='button' class='lg primary cam-btn' data-cam-start>Start camera</button></p>")


def prompt_html(state: cal.CaptureState | None, calibrating: bool, letters: str = cal.LETTERS,
                camera_on: bool = True) -> str:
    """What the panel shows: the letter asked, its reference handshape, the hold's progress (over the chosen
    `letters`), the last outcome; while the camera is off, that it is, with a button that starts it."""
    if state is None or not calibrating:
        return ("<div class='calib'><p>Press <b>Start</b>, then hold each letter to the camera for about 1.5 s "
                "(J and Z: trace them). Nothing is recorded but your hand's landmarks. To redo some letters "
                "later, put them in <b>Letters</b> and press <b>Start</b> with the same profile name.</p></div>")
    camera = "" if camera_on else CAMERA_OFF
    msg = f"<p class='calib-msg'>{html.escape(state.message)}</p>" if state.message else ""
    chosen = "".join(dict.fromkeys(c for c in (letters or cal.LETTERS).lower() if c in cal.LETTERS))
    kept = "".join(c for c in chosen if c in state.done)
    done = f"<p>Done: {html.escape(kept.upper() or 'none yet')} ({len(kept)}/{len(chosen)})</p>"
    if state.phase == "done":
        return f"<div class='calib'><p><b>Every letter asked.</b> Press <b>Finish and save</b>.</p>{msg}{done}</div>"
    bar = (f"<div class='meter' role='progressbar' aria-valuemin='0' aria-valuemax='100' "
           f"aria-valuenow='{round(state.progress * 100)}'><div class='meter-fill' "
           f"style='width:{state.progress * 100:.0f}%'></div></div>")
    if state.phase == "word":
        word = html.escape(state.word)
        return (f"<div class='calib' data-phase='word' data-word='{word}'>{camera}<p>Check the profile on your own "
                f"signing ({state.words_done} word(s) spelled): raise your hand, spell</p>"
                f"<p class='calib-letter'>{word.upper()}</p><p>then lower your hand. <b>Skip letter</b> skips this "
                "word; <b>Finish and save</b> checks the profile on the words spelled (on your letters only if none): "
                "a profile that reads them worse is not used.</p>"
                f"{bar}{msg}{done}</div>")
    what = {"ready": "Raise your hand and show", "holding": "Hold", "flagged": "Keep or retake"}[state.phase]
    how = "trace it" if state.letter in cal.MOTION_LETTERS else "hold it still"
    hand = reference_svg(state.letter)
    side = ("<p class='calib-note'>Orange: the thumb. The narrow picture shows the hand from the thumb's side, "
            "the camera on its left.</p>") if "calib-side" in hand else "<p class='calib-note'>Orange: the thumb.</p>"
    return (f"<div class='calib' data-phase='{state.phase}' data-letter='{state.letter}'>{camera}"
            f"<div class='calib-row'>{hand}<div><p>{what}</p>"
            f"<p class='calib-letter'>{state.letter.upper()}</p><p>({how})</p></div></div>{side}{bar}{msg}{done}</div>")


def profile_path(services, name: str) -> Path:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise InputError("a profile name is 1-40 letters, digits, '-' or '_'")
    return cal.default_profile_path(services.settings.paths.state_dir, name)


def profile_names(services) -> list[str]:
    return [NONE] + [p.stem for p in cal.list_profiles(services.settings.paths.state_dir)]


def new_capture(services, letters: str, resume_name: str = "") -> cal.GuidedCapture:
    """A capture for `letters` (default all), resuming the named profile when it exists for this model, then a
    few check words (GuidedCapture)."""
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
    from asl_gpt.recognition.pipeline import committed_reading_for

    # the check words read as this app reads them: its streaming path and gate
    return cal.GuidedCapture(rec, profile, todo, read_word=committed_reading_for(services.settings, rec))


def autosave(services, live) -> None:
    """Keep the letters the session's capture has accepted so far (unfitted) under its profile name, so a
    closed tab loses nothing: Start with the same name resumes. A failure is logged; the capture goes on."""
    cap = live.capture
    if cap is None or not live.unsaved_letters():
        return
    try:
        profile = cap.profile
        cal.save_profile(profile, profile_path(services, live.capture_name))
        live.capture_kept(profile.letters)
    except (OSError, InputError) as e:
        log.warning("could not keep the calibration so far: %s", e)


NOTHING_KEPT = "Nothing saved: no letter was kept. Recognition reads as before; press Start to calibrate again."


def save_and_use(services, live, capture: cal.GuidedCapture, name: str) -> str:
    """Fit, save under `name`, and read with it in this session if it helps; one line for the user.
    A capture that kept no letter saves nothing (an empty profile would only replace a useful one)."""
    if not capture.profile.samples:
        return NOTHING_KEPT
    path = profile_path(services, name)
    profile = capture.finish()
    cal.save_profile(profile, path)
    msg = use_profile(services, live, name)
    return f"Saved profile {name!r}: {profile.summary()}. {msg}"


def use_profile(services, live, name: str) -> str:
    """Read this session with the named profile (NONE: the shipped model). Never raises: a profile that
    cannot be used leaves the shipped model reading and says why."""
    from asl_gpt.recognition.recognizer import with_profile_file

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
