"""The Gradio app: live video beside the chat, typed questions for comparison, knowledge, status.

`build_demo(services)` returns an `App`: the Blocks and the objects its handlers share (the live
sessions, the status probe, the warm-up thread), held beside the Blocks rather than attached to
them. `launch(app, ...)` starts it with the app's styles (style.css), its page script (page.js:
keyboard shortcuts, preferences, the pending box's guard), the camera script (camera.js) and the
camera socket (asl_gpt.app.camera) on the same server; Gradio 6 takes css/head at launch.

The page is built panel by panel, each builder making its components and wiring its own handlers:
the header, the Ask tab's live panel (camera, caption, pending box), its video and Calibrate panels
and its chat, then the Knowledge and Status tabs. The handlers that join panels (the page's tick,
the session's options, the uploaded video's threshold, page load and unload) are wired last, in
`build_demo`. Per-session state lives in gr.State and in a `LiveRegistry` keyed by the session hash
(dropped when the tab unloads); each browser's conversation in `Conversations`, keyed by an id the page keeps
(it outlives a reload); nothing per session is module-level. Camera frames never enter
Gradio's queue; concurrency groups keep the rest apart: the LLM answers run in their own group,
indexing and uploaded-video recognition in theirs.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import SimpleNamespace

import gradio as gr  # this module is the Gradio adapter; handlers' `gr.Request` hints resolve here

from asl_gpt.app import calibrate as calibration
from asl_gpt.app import camera
from asl_gpt.app import knowledge as documents
from asl_gpt.app import practice
from asl_gpt.app.chat import answer_turn, markdown_text, user_message
from asl_gpt.app.conversations import Conversations, valid_id, waiting_markdown
from asl_gpt.app.live import LiveOptions, LiveSession, LiveState
from asl_gpt.app.registry import LiveRegistry
from asl_gpt.app.services import Services
from asl_gpt.app.pending import Turn
from asl_gpt.app.status import StatusProbe, caption_html, full_status, live_status
from asl_gpt.app.wording import web_text
from asl_gpt.recognition.buffer import BufferOptions
from asl_gpt.recognition.calibration import LETTERS
from asl_gpt.recognition.pipeline import options_from
from asl_gpt.errors import AslGptError

log = logging.getLogger(__name__)

TICK_S = 0.5  # UI refresh of the pending text, caption and status
CAPTION_REM = 2.25  # the caption's text size until the user picks one (style.css and page.js take it from here)
LLM_CONCURRENCY = 2  # answers streaming at once (all sessions); more when the embedded LLM has more slots

# Gradio 6.31 still draws its "processing | 0.0s" strip over HTML and Markdown outputs of an event
# with show_progress="hidden" (a timer's flickered every tick); no progress targets at all hides it.
QUIET = dict(concurrency_limit=None, show_progress="hidden", show_progress_on=[])
# The chat status line says in words what is happening; Gradio's own strip ("queue: 1/1 | 0.2/1.2s",
# "processing | 0.1s", drawn after the old status) is hidden on every output of an answer.
ANSWER = dict(concurrency_id="llm", concurrency_limit=LLM_CONCURRENCY, show_progress="hidden", show_progress_on=[])


def answer_events(settings) -> dict:
    """`ANSWER`, with at least as many answers at once as the embedded LLM has slots (llm.embedded_parallel)."""
    llm = settings.llm
    return {**ANSWER, "concurrency_limit": max(LLM_CONCURRENCY, 1 if llm.base_url else llm.embedded_parallel)}
# Send, Clear, Restore and a video's utterance hand the pending box back to recognition (page.js).
HANDS_BACK_JS = "(...inputs) => window.aslGptHandsBack(...inputs)"
CLEAR_JS = "() => { window.aslGptHandsBack(); return ''; }"

HELP = ("Keys: **Tab** moves between controls, **←/→** between tabs, **Enter** asks a typed question, "
        "**Alt+V** starts or stops the camera, **Alt+S** sends the pending utterance, **Alt+W** deletes its last "
        "word, **Alt+C** clears it, **Alt+R** restores a rejected segment (exactly as it was read, marked low "
        "confidence), **Alt+P** edits it, **Alt+Q** goes to the typed question.  \n"
        "While you edit the pending box, auto-send waits and recognition does not change your text (the caption "
        "shows what it reads meanwhile); **Send** or **Clear** hands the box back to signing. Each question in the "
        "chat says whether it was signed, signed and edited, or typed. High contrast and the caption size are "
        "remembered in this browser.")


@lru_cache(maxsize=None)
def static_text(name: str) -> str:
    """One of the page's static files (style.css, page.js), read from the package like camera.js."""
    return resources.files("asl_gpt.app").joinpath(name).read_text(encoding="utf-8")


def _session(request) -> str:
    return getattr(request, "session_hash", None) or "default"


@dataclass
class App:
    """The built app: its Blocks and what its handlers share, for `launch`, the benchmarks and tests."""

    demo: gr.Blocks
    registry: LiveRegistry  # the live sessions, one per browser tab
    probe: StatusProbe  # index and LLM status, shared by all sessions
    conversations: Conversations | None = None  # each browser's conversation
    warming: threading.Thread | None = None  # loads the model and the assistant in the background

    def close(self) -> None:
        """Stop the server (if launched) and every live session."""
        self.demo.close()
        self.registry.close()


@dataclass(frozen=True)
class _Shared:
    """What every panel's handlers share."""

    services: Services
    registry: LiveRegistry
    probe: StatusProbe
    conversations: Conversations  # each browser's conversation (kept across reloads)

    def live(self, request) -> LiveSession:
        """The live session of the browser tab that sent `request`."""
        return self.registry.get(_session(request))


def build_demo(services: Services, live_options: LiveOptions | None = None, initial_index: bool = True) -> App:
    """The app over injected services (see asl_gpt.app.services). Nothing heavy happens here; with
    `initial_index` an empty index is built from the knowledge folder in the background (first run)
    and the model and assistant are loaded in the background."""

    if live_options is None:  # the settings' frame size
        live_options = options_from(LiveOptions, services.settings.recognizer)
    shared = _Shared(services, LiveRegistry(services, live_options), StatusProbe(services),
                 Conversations(services.settings.paths.state_dir / "conversations"))

    with gr.Blocks(title="ASL GPT", delete_cache=(120, 300), analytics_enabled=False) as demo:
        signed_q = gr.State(None)  # {"n", "turns": [...]}: pending-box turns to answer, in order
        high_contrast = _header()
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5, min_width=360):
                        live = _live_panel(shared, signed_q)
                        video = _video_panel(shared, live.pending)
                    with gr.Column(scale=6, min_width=360):
                        # at the top, beside the camera: the reference handshape and your video seen together
                        calibrate = _calibrate_panel(shared)
                        chat = _chat_panel(shared, signed_q)
            practice.build_tab(shared)  # beside Ask: spell a word shown, each letter judged (asl_gpt.app.practice)
            docs = _knowledge_tab(shared)
            status = _status_tab(shared)

        # -- what joins the panels ------------------------------------------------------------------
        box_rev = gr.State(-1)  # the pending box text revision last sent to this page

        def on_tick(rev, request: gr.Request):
            """The page's refresh: what the camera's frames changed (they go over the camera socket)."""
            live_ = shared.live(request)
            s = live_.state()
            sent = live_.take_outgoing()  # auto-sent (the signer paused)
            # The box is refreshed only when the server's text for it changed, and then only through
            # the feed: pushing into the textbox itself overwrote keys typed while the push was in flight.
            feed = json.dumps({"rev": s.box_rev, "text": s.box}) if s.box_rev != rev else gr.skip()
            rej = f"Rejected (low confidence): {s.last_rejected}" if s.last_rejected else ""
            return (feed, s.box_rev, caption_html(s), live_status(s), rej,
                    _turns_item(sent) if sent else gr.skip(), calibrate.refresh(live_, s.camera_on))

        gr.Timer(TICK_S).tick(on_tick, [box_rev], [live.pending_feed, box_rev, live.caption, live.status,
                                                   live.rejected, signed_q, calibrate.prompt], queue=True, **QUIET)

        def on_options(th, pause, auto, request: gr.Request):
            shared.live(request).set_options(float(th), float(pause), bool(auto))

        for c in (status.threshold, status.end_pause, live.auto_send):
            c.change(on_options, [status.threshold, status.end_pause, live.auto_send], None, **QUIET)
        video.wire(status.threshold)

        # Both are remembered in this browser (localStorage) and applied before the page draws (page.js).
        high_contrast.change(None, high_contrast, None, js="(v) => window.aslGptPrefs.contrast(v)")
        status.caption_size.change(None, status.caption_size, None, js="(v) => window.aslGptPrefs.captionSize(v)")
        demo.load(None, None, [high_contrast, status.caption_size], js="() => window.aslGptPrefs.saved()")

        def on_load(request: gr.Request):
            key = _session(request)
            th = shared.registry.get(key).state().threshold
            return gr.update(value=th), documents.documents_table(services), shared.registry.token(key)

        demo.load(on_load, None, [status.threshold, docs, live.key], concurrency_limit=None)
        # this browser's conversation, shown again after a reload (its id is kept in localStorage by page.js)
        demo.load(chat.restore, chat.browser, chat.outputs, js="() => window.aslGptBrowserId()", concurrency_limit=None
                  ).then(chat.resume, chat.browser, chat.answer_outputs, **answer_events(services.settings))  # left waiting

        def on_unload(request: gr.Request):
            shared.registry.drop(_session(request))

        demo.unload(on_unload)
    app = App(demo, shared.registry, shared.probe, shared.conversations)
    if initial_index:
        documents.start_initial_index(services, shared.probe)
        app.warming = threading.Thread(target=warm_up, args=(services,), name="warm-up", daemon=True)
        app.warming.start()  # the benchmark waits for it
    return app


def _header() -> gr.Checkbox:
    """The title, and where a user looks first: high contrast and the keyboard shortcuts."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):
            gr.Markdown("# ASL GPT\nFingerspell a question to your camera, or type one; answers cite the "
                        "knowledge base.")
        with gr.Column(scale=3, min_width=280):
            high_contrast = gr.Checkbox(False, label="High contrast", elem_id="high-contrast")
            with gr.Accordion("Keyboard shortcuts", open=False, elem_id="shortcuts"):
                gr.Markdown(HELP)
    return high_contrast


def _live_panel(shared: _Shared, signed_q: gr.State) -> SimpleNamespace:
    """The camera, what it reads (status line, caption) and the pending box with its buttons; the box's handlers
    each pass the box's text as the page has it."""
    gr.HTML(camera.widget_html(), elem_id="camera", js_on_load=None)
    key = gr.Textbox(visible="hidden", elem_id="live-key")  # the camera socket's token
    status = gr.Markdown(elem_id="live-status")
    caption = gr.HTML(caption_html(LiveState()), elem_id="caption")
    pending = gr.Textbox(label="Pending utterance (edit before sending)", elem_id="pending", lines=2, max_lines=4)
    # Recognised text reaches the box through this hidden feed and a browser-side check (aslGptFill in
    # page.js), never while the user is in the box or has typed in it: see build_demo's on_tick.
    pending_feed = gr.Textbox(visible="hidden", elem_id="pending-feed")
    with gr.Row():
        send_btn = gr.Button("Send", variant="primary", elem_id="send-btn")
        delword_btn = gr.Button("Delete word", elem_id="delete-word-btn")
        clear_btn = gr.Button("Clear", elem_id="clear-btn")
        restore_btn = gr.Button("Restore rejected", elem_id="restore-btn")
    rejected = gr.Markdown(elem_id="rejected")
    auto_send = gr.Checkbox(shared.services.settings.recognizer.auto_send, label="Auto-send when I lower my hands or pause",
                            elem_id="auto-send")

    pending_feed.change(None, [pending_feed], [pending], js="(feed) => window.aslGptFill(feed)", queue=False,
                        show_progress="hidden", show_progress_on=[])

    def on_focus(text, request: gr.Request):
        shared.live(request).focus(text or "")

    def on_blur(text, request: gr.Request):
        shared.live(request).blur(text or "")

    def on_edit(text, request: gr.Request):
        shared.live(request).edit(text or "")

    pending.focus(on_focus, pending, None, **QUIET)
    pending.blur(on_blur, pending, None, **QUIET)
    # always_last: keys typed while an update is on its way are not dropped (the last text always arrives)
    pending.input(on_edit, pending, None, trigger_mode="always_last", **QUIET)

    def on_send(text, request: gr.Request):
        got = shared.live(request).send(text or "")
        if not isinstance(got, Turn):
            gr.Warning(f"Not sent: {got}." + (" Edit the text, or press Restore rejected to send the reading "
                                              "anyway." if "threshold" in got else ""))
            return gr.skip(), gr.skip()
        return "", _turns_item([got])

    send_btn.click(on_send, pending, [pending, signed_q], js=HANDS_BACK_JS, **QUIET)

    def on_clear(request: gr.Request):
        shared.live(request).clear()

    # The box is emptied in the page at the click, and the server only learns of it: a reply that emptied the
    # box would wipe keys typed within its round trip (recognition refills the box through the feed, which
    # leaves typed text alone).
    clear_btn.click(None, None, pending, js=CLEAR_JS, queue=False, show_progress="hidden", show_progress_on=[]
                    ).then(on_clear, None, None, **QUIET)

    def on_delete_word(text, request: gr.Request):
        return shared.live(request).delete_last_word(text or "")

    delword_btn.click(on_delete_word, pending, pending, **QUIET)

    def on_restore(request: gr.Request):
        got = shared.live(request).restore_rejected()
        if got is None:
            gr.Warning("Nothing to restore: no segment was rejected.")
            return gr.skip(), gr.skip()
        return got, ""

    restore_btn.click(on_restore, None, [pending, rejected], js=HANDS_BACK_JS, **QUIET)
    return SimpleNamespace(key=key, status=status, caption=caption, pending=pending, pending_feed=pending_feed,
                           rejected=rejected, auto_send=auto_send)


def _video_panel(shared: _Shared, pending: gr.Textbox) -> SimpleNamespace:
    """No camera? An uploaded video is recognised and its utterances offered for the pending box. Its
    recognition reads at the Status tab's threshold: `wire(threshold)` once that exists."""
    with gr.Accordion("No camera? Upload a video", open=False):
        video_file = gr.File(label="Video file", file_types=["video"], type="filepath", elem_id="video-file")
        video_btn = gr.Button("Recognise the video", elem_id="video-btn")
        video_msg = gr.Markdown(elem_id="video-msg")
        video_choice = gr.Radio([], label="Recognised utterances", elem_id="video-choice")
        use_btn = gr.Button("Use this utterance", elem_id="use-utterance-btn")
    video_confidence = gr.State({})  # utterance -> its recognised confidence

    def on_video(path, th, request: gr.Request, progress=gr.Progress()):
        if not path:
            return "Choose a video file first.", gr.update(choices=[], value=None), {}
        from asl_gpt.app.video import recognize_upload

        try:
            msg, found = recognize_upload(shared.services, path, float(th), progress, shared.live(request).recognizer)
        except AslGptError as e:  # its message names the upload's temporary copy: show the file's name
            return f"⚠ {web_text(e, (str(path),))}", gr.update(choices=[], value=None), {}
        choices = [t for t, _ in found]
        return msg, gr.update(choices=choices, value=choices[0] if choices else None), dict(found)

    def wire(threshold: gr.Slider) -> None:
        video_btn.click(on_video, [video_file, threshold], [video_msg, video_choice, video_confidence],
                        concurrency_id="video", concurrency_limit=1)

    def on_use(choice, confidences, request: gr.Request):
        if not choice:
            gr.Warning("Pick an utterance first.")
            return gr.skip()
        return shared.live(request).use_text(choice, float((confidences or {}).get(choice, 1.0)))

    use_btn.click(on_use, [video_choice, video_confidence], pending, js=HANDS_BACK_JS, **QUIET)
    return SimpleNamespace(wire=wire)


def _calibrate_panel(shared: _Shared) -> SimpleNamespace:
    """This session's frames teach a profile; the profile chosen reads this session (asl_gpt.app.calibrate).
    Returns the prompt and `refresh(live, camera_on)`, its content for the page's tick."""
    services = shared.services
    with gr.Accordion("Calibrate: teach it your hand", open=False, elem_id="calibrate") as panel:
        prompt = gr.HTML(calibration.prompt_html(None, False), elem_id="calib-prompt")
        with gr.Row():
            name_box = gr.Textbox("profile", label="Profile name", elem_id="calib-name", max_lines=1)
            letters_box = gr.Textbox(LETTERS.upper(), label="Letters", elem_id="calib-letters",
                                     max_lines=1)
        with gr.Row():
            start_btn = gr.Button("Start", variant="primary", elem_id="calib-start-btn")
            # usable only while a capture runs (they did nothing, silently, before Start)
            keep_btn = gr.Button("Keep this take", elem_id="calib-keep-btn", interactive=False)
            retake_btn = gr.Button("Retake", elem_id="calib-retake-btn", interactive=False)
            skip_btn = gr.Button("Skip letter", elem_id="calib-skip-btn", interactive=False)
            finish_btn = gr.Button("Finish and save", elem_id="calib-finish-btn", interactive=False)
        msg_md = gr.Markdown(elem_id="calib-msg")
        with gr.Row():
            profiles = gr.Dropdown([calibration.NONE], value=calibration.NONE, label="Profile in use", elem_id="calib-profiles",
                                   allow_custom_value=False)
            delete_btn = gr.Button("Delete profile", elem_id="calib-delete-btn")
        view = gr.Markdown(elem_id="calib-view")
    c = SimpleNamespace(panel=panel, prompt=prompt, name_box=name_box, letters_box=letters_box, start_btn=start_btn,
                        keep_btn=keep_btn, retake_btn=retake_btn, skip_btn=skip_btn, finish_btn=finish_btn,
                        msg_md=msg_md, profiles=profiles, delete_btn=delete_btn, view=view,
                        actions=[keep_btn, retake_btn, skip_btn, finish_btn])
    _calibrate_capture(shared, c)
    _calibrate_profiles(shared, c)

    def refresh(live, camera_on: bool):
        """The prompt while this session calibrates."""
        state = live.with_capture(lambda cap: cap.state())
        if state is None:
            return gr.skip()
        calibration.autosave(services, live)  # each accepted letter is kept at once: a closed tab loses nothing
        return calibration.prompt_html(state, True, live.capture_letters, camera_on)

    return SimpleNamespace(prompt=prompt, refresh=refresh)


def _attempt(fn, *args):
    """fn(*args), or None after a warning in the page when it raises an AslGptError."""
    try:
        return fn(*args)
    except AslGptError as e:
        gr.Warning(web_text(e))
        return None


def _calibrate_capture(shared: _Shared, c: SimpleNamespace) -> None:
    """Start, keep/retake/skip a letter, finish and save: the capture's buttons (`c`: the panel's components)."""
    services, actions = shared.services, c.actions

    def usable(on: bool):
        return [gr.update(interactive=on)] * len(actions)

    def on_calib_start(name, letters, request: gr.Request):
        live = shared.live(request)
        cap = _attempt(calibration.new_capture, services, letters, name)
        if cap is None:
            return gr.skip(), gr.skip(), *[gr.skip()] * len(actions)
        live.start_calibration(cap, name)
        camera_on = live.state().camera_on
        return calibration.prompt_html(cap.state(), True, live.capture_letters, camera_on), (
            f"Calibrating {len(cap.queue)} letters: recognition pauses until you finish."
            + (f" Resuming {cap.profile.letters.upper()}." if cap.profile.samples else "")
            + ("" if camera_on else " The camera is off: press Start camera.")), *usable(True)

    def action(name: str):
        def on_calib_action(request: gr.Request):
            live = shared.live(request)
            state = live.with_capture(lambda cap: getattr(cap, name)())
            if state is None:
                gr.Warning("Press Start first.")
                return gr.skip()
            return calibration.prompt_html(state, True, live.capture_letters, live.state().camera_on)
        return on_calib_action

    def on_calib_finish(name, request: gr.Request):
        live = shared.live(request)
        letters = live.capture_letters
        cap = live.stop_calibration()  # the worker stops feeding it before it is fitted
        if cap is None:
            gr.Warning("Press Start first.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), *usable(False)
        msg = _attempt(calibration.save_and_use, services, live, cap, name)
        if msg is None:  # not saved (say, a bad name): the capture goes on, nothing is lost
            live.start_calibration(cap, live.capture_name, letters)
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), *[gr.skip()] * len(actions)
        chosen = live.profile or calibration.NONE
        return (calibration.prompt_html(None, False), msg,
                gr.update(choices=calibration.profile_names(services), value=chosen), calibration.describe(services, chosen),
                *usable(False))

    c.start_btn.click(on_calib_start, [c.name_box, c.letters_box], [c.prompt, c.msg_md, *actions], **QUIET)
    for btn, name in ((c.keep_btn, "keep"), (c.retake_btn, "retake"), (c.skip_btn, "skip")):
        btn.click(action(name), None, c.prompt, **QUIET)
    c.finish_btn.click(on_calib_finish, c.name_box, [c.prompt, c.msg_md, c.profiles, c.view, *actions],
                       concurrency_id="calibrate", concurrency_limit=2)


def _calibrate_profiles(shared: _Shared, c: SimpleNamespace) -> None:
    """The profile in use, and deleting one; opening the panel shows them (`c`: the panel's components)."""
    services = shared.services

    def on_calib_use(name, request: gr.Request):
        live = shared.live(request)
        if name == (live.profile or calibration.NONE):
            return calibration.describe(services, name)
        return calibration.use_profile(services, live, name) + "  \n" + calibration.describe(services, name)

    def on_calib_delete(name, request: gr.Request):
        live = shared.live(request)
        msg = _attempt(calibration.delete_profile, services, live, name)
        choices = gr.update(choices=calibration.profile_names(services), value=live.profile or calibration.NONE)
        return msg or gr.skip(), choices

    def on_calib_open(request: gr.Request):
        live = shared.live(request)
        chosen = live.profile or calibration.NONE
        return (gr.update(choices=calibration.profile_names(services), value=chosen), calibration.describe(services, chosen),
                *[gr.update(interactive=live.capture is not None)] * len(c.actions))

    c.profiles.input(on_calib_use, c.profiles, c.view, **QUIET)
    c.delete_btn.click(on_calib_delete, c.profiles, [c.view, c.profiles], **QUIET)
    c.panel.expand(on_calib_open, None, [c.profiles, c.view, *c.actions], **QUIET)


def _chat_panel(shared: _Shared, signed_q: gr.State) -> SimpleNamespace:
    """The answers: typed questions and the pending box's turns (`signed_q`) through the same assistant. The server
    keeps each browser's conversation (asl_gpt.app.conversations): a question asked while an answer streams waits,
    listed under the chat; a reload shows the conversation again (`restore`, wired by build_demo on page load)."""
    limit = shared.services.settings.rag.max_question_chars
    store = shared.conversations
    browser = gr.Textbox(visible="hidden", elem_id="browser-id")  # this browser's id (page.js: localStorage)
    # no share button (it had no name, and nothing is shared from here)
    chatbot = gr.Chatbot(label="Answers", elem_id="chat", height=560, autoscroll=True, buttons=["copy", "copy_all"])
    question = gr.Textbox(label="Type a question", placeholder="e.g. What is fingerspelling?", elem_id="question",
                          lines=1, max_lines=6, submit_btn=False, info=f"Up to {limit} characters.")
    gr.HTML(f"<div id='question-count' data-limit='{limit}'>0 / {limit} characters</div>",
            elem_id="question-count-box")
    with gr.Row():
        ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn")
        new_chat_btn = gr.Button("New conversation", elem_id="new-chat-btn")
    waiting_md = gr.Markdown(elem_id="queued-questions")
    chat_md = gr.Markdown(elem_id="chat-status")

    def waiting(bid):
        return waiting_markdown(store.get(bid), markdown_text)

    def on_typed(text, bid, request: gr.Request):
        text, bid = (text or "").strip(), valid_id(bid) or _session(request)
        try:
            shared.services.assistant().validate(text)
        except AslGptError as e:
            gr.Warning(web_text(e))  # the text stays in the box
            return gr.skip(), gr.skip(), bid, web_text(e)
        if not store.ask(bid, Turn(text, "typed")):
            msg = "Several questions are already waiting: ask this one when they are answered."
            gr.Warning(msg)
            return gr.skip(), gr.skip(), bid, msg
        return "", waiting(bid), bid, gr.skip()

    def on_signed(item, bid, request: gr.Request):
        bid = valid_id(bid) or _session(request)
        for t in (item or {}).get("turns", []):
            store.ask(bid, Turn(**t))
        return waiting(bid), bid

    def answer_waiting(bid):
        yield from _answer_waiting(shared, bid)

    answer_args = answer_events(shared.services.settings)
    for trigger in (question.submit, ask_btn.click):
        trigger(on_typed, [question, browser], [question, waiting_md, browser, chat_md], trigger_mode="multiple",
                **QUIET).then(
            answer_waiting, browser, [chatbot, chat_md, waiting_md], **answer_args)
    signed_q.change(on_signed, [signed_q, browser], [waiting_md, browser], trigger_mode="multiple", **QUIET).then(
        answer_waiting, browser, [chatbot, chat_md, waiting_md], **answer_args)

    def on_new(bid, request: gr.Request):
        store.clear(valid_id(bid) or _session(request))
        return [], "", ""

    new_chat_btn.click(on_new, browser, [chatbot, chat_md, waiting_md], **QUIET)
    chatbot.clear(on_new, browser, [chatbot, chat_md, waiting_md], **QUIET)  # its trash button: a new conversation
    question.change(None, question, None, js="(v) => window.aslGptCount(v)")  # also when Ask empties it

    def restore(bid, request: gr.Request):
        bid = valid_id(bid) or _session(request)
        c = store.get(bid)
        note = "an answer is still being written: it is kept, and shown when you reload again" if c.busy else ""
        return bid, list(c.chat), note, waiting(bid)

    return SimpleNamespace(browser=browser, restore=restore, outputs=[browser, chatbot, chat_md, waiting_md],
                           resume=answer_waiting, answer_outputs=[chatbot, chat_md, waiting_md])


def _answer_waiting(shared: _Shared, bid: str):
    """(chat, status, waiting list) as this conversation's waiting questions are answered in order; returns at once
    when another event is already answering them (it takes the new ones when its answer ends)."""
    store = shared.conversations
    if not store.begin(bid):
        yield gr.skip(), gr.skip(), waiting_markdown(store.get(bid), markdown_text)
        return
    try:
        while (nxt := store.next(bid)) is not None:
            q, generation = nxt
            c = store.get(bid)
            for chat, turns, status in _answer_or_error(shared, q, c.chat, c.turns):
                if not store.update(bid, generation, chat, turns):
                    break  # a new conversation was started: this answer is dropped
                yield chat, status, waiting_markdown(c, markdown_text)
            store.save(bid)
        yield gr.skip(), gr.skip(), ""  # nothing waits now (and a run that had nothing to answer yields once)
    finally:
        store.end(bid)


def _answer_or_error(shared: _Shared, q: Turn, chat: list[dict], turns: list[dict]):
    """answer_turn's steps; an assistant that cannot be built (say, a broken index) is an answer of one line, and the
    question stays in the chat."""
    try:
        backend = shared.services.assistant()
    except AslGptError as e:
        msg = web_text(e)
        yield [*chat, user_message(q), {"role": "assistant", "content": f"⚠ {markdown_text(msg)}"}], turns, \
            markdown_text(msg)
        return
    yield from answer_turn(backend, q, chat, turns)


def _knowledge_tab(shared: _Shared) -> gr.Dataframe:
    """List, upload and (re)index documents (asl_gpt.app.knowledge); returns the documents table."""
    services, probe = shared.services, shared.probe
    with gr.Tab("Knowledge", id="knowledge") as tab:
        docs = gr.Dataframe(headers=["document", "title", "chunks"], datatype=["str", "str", "number"],
                            interactive=False, label="Indexed documents", elem_id="documents")
        files = gr.File(label="Add documents (.md, .txt, .html, .pdf)", file_count="multiple", type="filepath",
                        elem_id="kb-files")
        with gr.Row():
            upload_btn = gr.Button("Upload and index", variant="primary", elem_id="upload-btn")
            reindex_btn = gr.Button("Reindex all", elem_id="reindex-btn")
            rebuild = gr.Checkbox(False, label="Rebuild from scratch", elem_id="rebuild")
        with gr.Row(equal_height=True):
            uploads = gr.Dropdown([], label="Your uploaded documents", elem_id="uploads", allow_custom_value=False)
            remove_btn = gr.Button("Remove from the knowledge base", elem_id="remove-upload-btn")
        status_md = gr.Markdown(elem_id="kb-status")

    def listed():
        return gr.update(choices=documents.uploaded_names(services), value=None)

    def on_docs():
        return documents.documents_table(services), listed()

    tab.select(on_docs, None, [docs, uploads], concurrency_limit=None)

    # The status line is each run's own, in words: the previous one is replaced at once, and the progress
    # bar ("embedding 32/237 chunks") is drawn over the documents table, not over the status.
    index_args = dict(concurrency_id="index", concurrency_limit=1, show_progress_on=[docs])

    def on_upload(paths, progress=gr.Progress()):
        if paths:
            yield "Uploading and indexing…", gr.skip(), gr.skip(), gr.skip()
        msg = documents.upload_and_index(services, probe, paths or [], progress)
        yield web_text(msg, tuple(str(f) for f in paths or [])), documents.documents_table(services), None, listed()

    upload_btn.click(on_upload, files, [status_md, docs, files, uploads], **index_args)

    def on_remove(name, progress=gr.Progress()):
        yield "Removing…", gr.skip(), gr.skip()
        yield documents.remove_upload(services, probe, name), documents.documents_table(services), listed()

    remove_btn.click(on_remove, uploads, [status_md, docs, uploads], **index_args)

    def on_reindex(full, progress=gr.Progress()):
        yield "Reindexing…", gr.skip()
        msg = documents.reindex(services, probe, bool(full), progress)
        yield web_text(msg), documents.documents_table(services)

    reindex_btn.click(on_reindex, rebuild, [status_md, docs], **index_args)
    return docs


def _status_tab(shared: _Shared) -> SimpleNamespace:
    """Camera, hands, model, index and LLM status, and this session's settings."""
    with gr.Tab("Status and settings", id="status") as tab:
        status_md = gr.Markdown(elem_id="status")
        check_llm_btn = gr.Button("Check the LLM now (starts the embedded model)", elem_id="check-llm-btn")
        threshold = gr.Slider(0.0, 1.0, value=BufferOptions.min_confidence, step=0.05,
                              label="Confidence threshold (this session)", elem_id="threshold")
        end_pause = gr.Slider(300, 5000, value=shared.services.settings.recognizer.end_pause_ms, step=100,
                              label="End-of-utterance pause, ms (this session)", elem_id="end-pause")
        caption_size = gr.Slider(1.0, 5.0, value=CAPTION_REM, step=0.25, label="Caption size (rem)",
                                 elem_id="caption-size")

    def on_status(request: gr.Request):
        return full_status(shared.live(request).state(), shared.probe.index(), shared.probe.llm())

    def on_check_llm(request: gr.Request):
        shared.probe.llm(start=True)
        return on_status(request)

    tab.select(on_status, None, status_md, concurrency_limit=None)
    gr.Timer(3.0).tick(on_status, None, status_md, **QUIET)
    check_llm_btn.click(on_check_llm, None, status_md, concurrency_id="llm-check", concurrency_limit=1)
    return SimpleNamespace(threshold=threshold, end_pause=end_pause, caption_size=caption_size)


def warm_up(services) -> None:
    """Load the model and the assistant and start the LLM now, so the first page load, the first camera
    frames and the first question do not wait for them (failures are shown by the status probe)."""
    for load in (services.recognizer, services.knowledge, lambda: services.assistant().warm_up()):
        try:
            load()
        except Exception as e:  # noqa: BLE001 - reported in the page, not here
            log.info("warm-up: %s", e)


def _turns_item(turns: list[Turn]) -> dict:
    """Pending-box turns for the chat, as plain data (gr.State); `n` makes each item a change (unique
    without a counter shared by every session's concurrent handlers)."""
    return {"n": uuid.uuid4().hex, "turns": [
        {"text": t.text, "source": t.source, "recognised": t.recognised,
         "confidence": None if t.confidence is None else round(t.confidence, 3), "low_confidence": t.low_confidence}
        for t in turns]}


def launch(app: App, host: str = "127.0.0.1", port: int | None = None, prevent_thread_lock: bool = False,
           **kwargs):
    """Start the app with its styles and page scripts (Gradio 6 takes these at launch)."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = app.demo
    demo.queue(default_concurrency_limit=4)
    page = f"const ASL_GPT_PAGE = {json.dumps({'captionRem': CAPTION_REM})};\n{static_text('page.js')}"
    head = "".join(f"<script>\n{js}\n</script>\n" for js in (page, camera.script(app.registry.options.max_side)))
    css = f"{static_text('style.css')}\n:root {{ --caption-size: {CAPTION_REM}rem; }}\n"
    out = demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, css=css,
                      head=head, show_error=True, app_kwargs={"routes": [camera.websocket_route(app.registry)]},
                      **kwargs)
    # Camera frames are JPEG: per-message deflate (on by default, offered by every browser) would only
    # spend CPU on both sides compressing the incompressible. Read by uvicorn per new connection.
    config = getattr(getattr(demo, "server", None), "config", None)
    if config is not None and hasattr(config, "ws_per_message_deflate"):
        config.ws_per_message_deflate = False
    if not prevent_thread_lock:
        demo.block_thread()
    return out
