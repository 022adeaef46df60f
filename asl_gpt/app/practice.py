"""The Practice tab: a word to spell at a chosen level, the learner's take (camera or an uploaded video) judged
letter by letter (asl_gpt.recognition.practice), the missed letters' reference hands and cited tips, and the
learner's progress kept in the profiles folder beside the calibration profiles. Nothing is sent anywhere.

Also "How do I spell X" for the chat: X's handshapes as the reference hands, one per letter, each with its
letter as text.
"""

import base64
import html
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asl_gpt.app.calibrate import profile_path, reference_svg
from asl_gpt.recognition.practice import Judgement, Take, judge, practice_word, with_tips
from asl_gpt.words import ALPHABET, knowledge_words

log = logging.getLogger(__name__)

LEVELS = ("Letters", "Short words", "Knowledge base words", "Names")
SHORT_WORDS = ("cat dog sun red big cup hat map box fox yes no hi me you we car bus bed egg jam key kid "
               "pen zoo ask sky joy quiz help love name deaf sign book milk").split()
NAMES = ("ann bob eva max amy ben joe kim liz tom jack mary paul rosa zoe alex emma hugo ivan lucy mike nina "
         "omar sara yuki david sofia james").split()


def level_words(level: str, knowledge_dir: Path | None) -> list[str]:
    """The words of a level (Letters: the 26 letters)."""
    if level == "Letters":
        return list(ALPHABET)
    if level == "Names":
        return list(NAMES)
    if level == "Knowledge base words" and knowledge_dir is not None and Path(knowledge_dir).is_dir():
        counts = knowledge_words(str(knowledge_dir))
        common = sorted((w for w in counts if w.isalpha() and 4 <= len(w) <= 8), key=lambda w: (-counts[w], w))
        if common:
            return common[:200]
    return list(SHORT_WORDS)


# --- progress, per learner ------------------------------------------------------------------------------

@dataclass
class Progress:
    """Letters practised: letter -> [tries, right]. Kept as PROFILE.practice.json in the profiles folder."""

    letters: dict[str, list[int]] = field(default_factory=dict)

    def record(self, judgement: Judgement) -> None:
        for v in judgement.letters:
            tries, right = self.letters.get(v.letter, [0, 0])
            self.letters[v.letter] = [tries + 1, right + int(v.ok)]

    def rate(self, letter: str) -> float | None:
        tries, right = self.letters.get(letter, [0, 0])
        return right / tries if tries else None

    def weakness(self, letter: str) -> float:
        """1 - the letter's success rate, pulled towards one half while it has few tries (unpractised: 0.5)."""
        tries, right = self.letters.get(letter, [0, 0])
        return 1.0 - (right + 1.0) / (tries + 2.0)

    def weakest(self, n: int = 5) -> list[str]:
        practised = [c for c in ALPHABET if c in self.letters]
        return sorted(practised, key=lambda c: (-self.weakness(c), c))[:n]


def progress_path(services, learner: str) -> Path:
    """PROFILE.practice.json beside the calibration profile PROFILE.npz (InputError for a bad name)."""
    return profile_path(services, learner).with_suffix(".practice.json")


def load_progress(path: Path) -> Progress:
    try:
        data = json.loads(Path(path).read_text())
        return Progress({c: [int(t), int(r)] for c, (t, r) in data.get("letters", {}).items() if c in ALPHABET})
    except FileNotFoundError:
        return Progress()
    except (OSError, ValueError, TypeError, AttributeError) as e:  # a damaged file starts afresh, said in the log
        log.warning("practice progress %s unreadable (%s): starting afresh", path, e)
        return Progress()


def save_progress(progress: Progress, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"letters": progress.letters}, sort_keys=True))
    os.replace(tmp, path)


def next_word(level: str, progress: Progress, rng: np.random.Generator, knowledge_dir: Path | None = None,
              last: str = "") -> str:
    """A word of the level that practises the learner's weakest letters: among the level's words, one of those
    whose letters are, on average, the weakest (a random one of those within 0.02 of the best; never the last
    word again). Unpractised letters count as half right, so a new learner gets any word of the level."""
    words = [w for w in level_words(level, knowledge_dir) if w != last] or level_words(level, knowledge_dir)
    need = np.array([np.mean([progress.weakness(c) for c in w]) for w in words])
    best = np.flatnonzero(need >= need.max() - 0.02)  # near-ties: variety among the words that practise as much
    return words[int(rng.choice(best))]


def progress_text(progress: Progress) -> str:
    """Markdown: letters practised, their success rates, the weakest ones."""
    if not progress.letters:
        return "No letters practised yet."
    tries = sum(t for t, _ in progress.letters.values())
    right = sum(r for _, r in progress.letters.values())
    rates = ", ".join(f"{c.upper()} {progress.rate(c):.0%}" for c in ALPHABET if c in progress.letters)
    weak = ", ".join(c.upper() for c in progress.weakest(3))
    return (f"**{len(progress.letters)} letters practised**, {right} of {tries} signed right ({right / tries:.0%}).  \n"
            f"Per letter: {rates}.  \nWeakest: {weak}.")


# --- judging ---------------------------------------------------------------------------------------------

def judge_take(services, word: str, frames: np.ndarray, times: np.ndarray, aspect: float,
               recognizer=None) -> Judgement:
    """The take judged by the shared model, through the session's calibration (its `recognizer`'s profile) when
    it has one, with a tip per missed letter. InputError when no hand was in view."""
    rec = services.recognizer()
    adapter = getattr(getattr(recognizer, "profile", None), "adapter", None)
    result = judge(word, frames, times, rec, aspect, adapter, services.settings.practice)
    return with_tips(result, services.settings.paths.knowledge_dir)


def judge_upload(services, word: str, path: str, recognizer=None) -> Judgement:
    """An uploaded recording of the word, read as `asl-gpt practice --video` reads one."""
    from asl_gpt.landmarks.holistic import extract_video
    from asl_gpt.landmarks.video import probe

    info = probe(path)  # InputError for a file OpenCV cannot read
    frames, times = extract_video(path, services.settings.recognizer.max_side, extractor=services.new_extractor())
    return judge_take(services, word, frames, times, info.aspect, recognizer)


# --- what the page shows ----------------------------------------------------------------------------------

def word_html(word: str, level: str) -> str:
    w = html.escape(word.upper())
    spaced = " ".join(w)
    return (f"<div class='practice-word' data-word='{html.escape(word)}'><p>Spell this {'letter' if len(word) == 1 else 'word'} "
            f"({html.escape(level.lower())}):</p><p class='practice-target' aria-label='{spaced}'>{w}</p></div>")


def result_html(j: Judgement) -> str:
    """The word with each letter marked right or missed (colour and words), then each missed letter's reference
    hand and the tips with their sources."""
    cells = []
    for v in j.letters:
        state = "right" if v.ok else "missed"
        seen = "" if v.ok or v.read_as == v.letter else f", read as {v.read_as.upper()}"
        cells.append(f"<li class='practice-letter {state}' data-letter='{v.letter}' data-ok='{str(v.ok).lower()}'>"
                     f"<span class='pl-char'>{v.letter.upper()}</span>"
                     f"<span class='pl-state'>{'✓ right' if v.ok else '✗ missed'}{html.escape(seen)}</span></li>")
    right = sum(v.ok for v in j.letters)
    out = [f"<div class='practice-result' role='status'><p><b>{right} of {len(j.letters)} letters right.</b></p>"
           f"<ol class='practice-letters' aria-label='each letter of {html.escape(j.word.upper())}'>{''.join(cells)}</ol>"]
    missed = list(dict.fromkeys(v.letter for v in j.letters if not v.ok))
    for c in missed:
        tips = [t for t in j.tips if t.letter == c]
        tip = "".join(f"<p class='practice-tip'>{html.escape(t.text)} <cite>({html.escape(t.source)}, "
                      f"“{html.escape(t.heading)}”)</cite></p>" for t in tips[:1])
        out.append(f"<div class='practice-help' data-letter='{c}'><h4>{c.upper()}: how it looks</h4>"
                   f"<div class='calib-row'>{reference_svg(c, 120)}</div>{tip}</div>")
    if not missed:
        out.append("<p>Every letter right. Press <b>Next word</b> for another.</p>")
    return "".join(out) + "</div>"


# --- "How do I spell X" in the chat ----------------------------------------------------------------------

_SPELL_Q = re.compile(r"^\s*(?:how\s+(?:do|would|can|should)\s+(?:i|you|we|one)\s+(?:finger\s*-?\s*)?spell"
                      r"|show\s+me\s+how\s+to\s+(?:finger\s*-?\s*)?spell|(?:finger\s*-?\s*)?spell)\s+"
                      r"(?:the\s+(?:word|name|letter)\s+)?[\"'“‘]?([A-Za-z]{1,20})[\"'”’]?"
                      r"(?:\s+in\s+(?:asl|sign(?:\s+language)?|the\s+manual\s+alphabet))?\s*[?.!]*\s*$", re.I)


def spelling_question(text: str) -> str | None:
    """The word a "how do I spell X" question asks for (lowercase), else None."""
    m = _SPELL_Q.match(text or "")
    return m.group(1).lower() if m else None


def _image(svg: str, alt: str) -> str:
    """A Markdown image of an inline SVG drawing (an image file needs the SVG namespace)."""
    svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    data = base64.b64encode(svg.encode()).decode()
    return f"![{alt}](data:image/svg+xml;base64,{data})"


def spelling_answer(word: str) -> str:
    """Markdown: one reference hand per letter, each letter as text beside its picture (the pictures are
    images with their letter as alternative text, so a screen reader reads the word letter by letter)."""
    w = practice_word(word)
    rows = []
    for i, c in enumerate(w, 1):
        svg = reference_svg(c, 110)
        first = svg[:svg.index("</svg>") + 6] if svg else ""
        picture = _image(first.replace(' class="calib-hand calib-front"', ""), f"ASL handshape for {c.upper()}") if first else ""
        rows.append(f"{i}. **{c.upper()}** {picture}")
    return (f"To fingerspell **{w.upper()}**, sign these letters in order ({'-'.join(w.upper())}), "
            "each held briefly with the palm towards the reader:\n\n" + "\n".join(rows)
            + "\n\n*The drawings are the reference handshapes of the Calibrate panel, as your camera shows a right "
              "hand; the thumb is orange. Practise it in the Practice tab.*")


# --- the tab (Gradio) ----------------------------------------------------------------------------------

# The camera is the Ask tab's (camera.js): started here too when it is off, its frames reach this tab's take.
START_CAMERA_JS = "(w) => { const c = window.aslGptCamera; if (c && !c.running()) c.start(); return w; }"
INTRO = ("Pick a level, press **New word**, then **Spell to the camera** and spell the word shown (the camera "
         "starts if it is off); lower your hand when done (the verdicts follow within a second). Or upload a video of yourself spelling it. Each "
         "letter is then marked right or missed, with the missed letters' handshapes and a tip. Your progress "
         "stays on this computer, under your name in the profiles folder.")


def build_tab(shared) -> None:
    """The Practice tab (asl_gpt.app.ui builds it beside Ask); `shared`: the handlers' shared objects (services,
    the live sessions)."""
    ui = _layout()
    _wire_words(shared, ui)
    _wire_takes(shared, ui)


_QUIET = dict(concurrency_limit=None, show_progress="hidden", show_progress_on=[])


def _layout():
    import gradio as gr
    from types import SimpleNamespace

    with gr.Tab("Practice", id="practice"):
        gr.Markdown(INTRO)
        with gr.Row():
            level = gr.Radio(list(LEVELS), value="Short words", label="Level", elem_id="practice-level")
            learner = gr.Textbox("profile", label="Your name (progress is kept under it)", max_lines=1,
                                 elem_id="practice-learner")
        word = gr.State("")
        shown = gr.HTML("<p>Press <b>New word</b>.</p>", elem_id="practice-word")
        with gr.Row():
            new_btn = gr.Button("New word", elem_id="practice-new-btn")
            cam_btn = gr.Button("Spell to the camera", variant="primary", elem_id="practice-cam-btn")
            stop_btn = gr.Button("Stop and judge", elem_id="practice-stop-btn")
        with gr.Accordion("No camera? Upload a video of you spelling it", open=False):
            upload = gr.File(label="Video file", file_types=["video"], type="filepath", elem_id="practice-file")
            upload_btn = gr.Button("Judge the video", elem_id="practice-upload-btn")
        status = gr.Markdown(elem_id="practice-status")
        result = gr.HTML(elem_id="practice-result")
        with gr.Accordion("Your progress", open=False, elem_id="practice-progress-panel"):
            progress_md = gr.Markdown(elem_id="practice-progress")
            reset_btn = gr.Button("Reset my progress", elem_id="practice-reset-btn")
        timer = gr.Timer(0.25, active=False)  # only while a take records: the verdicts follow the hand drop soon
    return SimpleNamespace(**{k: v for k, v in locals().items() if k not in ("gr", "SimpleNamespace")})


def _wire_words(shared, ui) -> None:
    """New word, the learner's progress and its reset."""
    import gradio as gr

    from asl_gpt.app.wording import web_text
    from asl_gpt.errors import AslGptError

    services = shared.services
    rng = np.random.default_rng()

    def on_new(lvl, name, last):
        try:
            prog = load_progress(progress_path(services, name))
        except AslGptError as e:
            return gr.skip(), gr.skip(), web_text(e)
        w = next_word(lvl, prog, rng, services.settings.paths.knowledge_dir, last)
        return w, word_html(w, lvl), ""

    def on_progress(name):
        try:
            return progress_text(load_progress(progress_path(services, name)))
        except AslGptError as e:
            return web_text(e)

    def on_reset(name):
        try:
            progress_path(services, name).unlink(missing_ok=True)
        except (AslGptError, OSError) as e:
            return f"⚠ {e}"
        return "Progress reset. " + progress_text(Progress())

    ui.new_btn.click(on_new, [ui.level, ui.learner, ui.word], [ui.word, ui.shown, ui.status], **_QUIET)
    ui.level.change(on_new, [ui.level, ui.learner, ui.word], [ui.word, ui.shown, ui.status], **_QUIET)
    ui.learner.change(on_progress, ui.learner, ui.progress_md, **_QUIET)
    ui.reset_btn.click(on_reset, ui.learner, ui.progress_md, **_QUIET)


def _wire_takes(shared, ui) -> None:
    """A camera take (started, polled, stopped) or an uploaded video: judged, shown, and kept in the progress."""
    # No `from __future__ import annotations` in this module: the handlers' `gr.Request` hints are evaluated
    # here, where gradio is imported, so Gradio sees them and passes the request.
    import gradio as gr

    from asl_gpt.app.wording import web_text
    from asl_gpt.errors import AslGptError

    services = shared.services

    def finish(j_or_error, name):
        """(result, status, progress) after a take: recorded in the learner's progress."""
        if isinstance(j_or_error, AslGptError):
            return "", f"⚠ {web_text(j_or_error)}", gr.skip()
        try:
            path = progress_path(services, name)
            prog = load_progress(path)
            prog.record(j_or_error)
            save_progress(prog, path)
        except (AslGptError, OSError) as e:
            return result_html(j_or_error), f"Judged; progress not kept: {e}", gr.skip()
        return result_html(j_or_error), "Judged.", progress_text(prog)

    def on_camera(w, request: gr.Request):
        if not w:
            return "Press **New word** first.", gr.skip()
        shared.live(request).practise(Take(w))
        camera = "" if shared.live(request).state().camera_on else " Start the camera (Alt+V) if it is off."
        return f"Recording: spell **{w.upper()}**, then lower your hand.{camera}", gr.Timer(active=True)

    def judged(live, take, name):
        live.practise(None)
        if not take.started:
            return "", "No hand was seen: nothing to judge. Press **Spell to the camera** again.", gr.skip()
        try:
            j = judge_take(services, take.word, *take.landmarks(), live.recognizer)
        except AslGptError as e:
            j = e
        return finish(j, name)

    def on_tick(name, request: gr.Request):
        live = shared.live(request)
        take = live.practice_take
        if take is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        if not take.done:
            return gr.skip(), ("Recording…" if take.started else "Waiting for your hand…"), gr.skip(), gr.skip()
        return *judged(live, take, name), gr.Timer(active=False)

    def on_stop(name, request: gr.Request):
        live = shared.live(request)
        take = live.practice_take
        if take is None:
            return gr.skip(), "Nothing is being recorded.", gr.skip(), gr.Timer(active=False)
        return *judged(live, take, name), gr.Timer(active=False)

    def on_upload(w, path, name, request: gr.Request):
        if not w or not path:
            return "", "Press **New word** and choose a video first.", gr.skip()
        try:
            j = judge_upload(services, w, path, shared.live(request).recognizer)
        except AslGptError as e:
            e.problem = web_text(e, (str(path),))
            j = e
        return finish(j, name)

    ui.cam_btn.click(on_camera, ui.word, [ui.status, ui.timer], js=START_CAMERA_JS, **_QUIET)
    outs = [ui.result, ui.status, ui.progress_md, ui.timer]
    ui.timer.tick(on_tick, ui.learner, outs, concurrency_id="practice", concurrency_limit=2)
    ui.stop_btn.click(on_stop, ui.learner, outs, concurrency_id="practice", concurrency_limit=2)
    ui.upload_btn.click(on_upload, [ui.word, ui.upload, ui.learner], outs[:3], concurrency_id="video",
                        concurrency_limit=1)
