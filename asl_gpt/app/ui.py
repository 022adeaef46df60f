"""The Gradio app: live video beside the chat, typed questions for comparison, knowledge, status.

`build_demo(services)` returns an `App`: the Blocks and the objects its handlers share (the live
sessions, the status probe, the warm-up thread), held beside the Blocks rather than attached to
them. `launch(app, ...)` starts it with the app's CSS, the camera script and keyboard shortcuts
(Gradio 6 takes css/head at launch) and the camera socket (asl_gpt.app.camera) on the same server.
Per-session state lives in gr.State and in a `LiveRegistry` keyed by the session hash (dropped when
the tab unloads); nothing per session is module-level. Camera frames never enter
Gradio's queue; concurrency groups keep the rest apart: the LLM answers run in their own group,
indexing and uploaded-video recognition in theirs.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass

import gradio as gr  # this module is the Gradio adapter; handlers' `gr.Request` hints resolve here

from asl_gpt.app import calibrate as calib
from asl_gpt.app import camera
from asl_gpt.app.chat import Question, answer_turn
from asl_gpt.app.live import LiveOptions, LiveRegistry, LiveState
from asl_gpt.app.pending import Turn
from asl_gpt.app.status import StatusProbe, caption_html, full_status, live_status
from asl_gpt.app.wording import web_text
from asl_gpt.buffer import BufferOptions
from asl_gpt.errors import AslGptError

log = logging.getLogger(__name__)

TICK_S = 0.5  # UI refresh of the pending text, caption and status
LLM_CONCURRENCY = 2  # answers streaming at once (all sessions); the embedded LLM serves one at a time anyway

CSS = """
/* Gradio's bundled Source Sans Pro SemiBold is a 55-glyph subset: bold headings mixed two fonts ("ASL GPT"
   with a foreign "A"). Its complete Regular and Bold files serve every weight instead. */
@font-face { font-family: "ASL GPT Sans"; src: url("static/fonts/SourceSansPro/SourceSansPro-Regular.woff2")
  format("woff2"); font-weight: 100 499; font-style: normal; }
@font-face { font-family: "ASL GPT Sans"; src: url("static/fonts/SourceSansPro/SourceSansPro-Bold.woff2")
  format("woff2"); font-weight: 500 900; font-style: normal; }
:root, body, .gradio-container { --font: "ASL GPT Sans", "Source Sans Pro", ui-sans-serif, system-ui, sans-serif; }
/* The normal theme meets WCAG AA too (every text >= 4.5:1, checked by the browser tests like high contrast):
   Gradio's orange primary buttons carry white text at 2.8:1 and its subdued text (the question's info and
   counter, placeholders, the footer) is 1.9:1 on white; in a dark system theme the buttons are 3.6:1 and the
   placeholder 3.1:1. */
body, body .gradio-container { --button-primary-background-fill: #c2410c;
  --button-primary-background-fill-hover: #9a3412; --button-primary-text-color: #fff;
  --button-primary-text-color-hover: #fff; }
body:not(.dark), body:not(.dark) .gradio-container { --color-accent: #c2410c; --body-text-color-subdued: #52525b;
  --input-placeholder-color: #6b6b76; --block-info-text-color: #52525b; }
body.dark, body.dark .gradio-container { --input-placeholder-color: #a1a1aa; }
/* The chat's label sat over its first message once the chat scrolled: it takes its own line instead. */
#chat label[data-testid="block-label"] { position: static; }
#question-count { font-size: .9rem; margin-top: -.25rem; color: var(--body-text-color-subdued); }
#question-count.over { color: #b91c1c; font-weight: 600; }
#caption .caption.editing { outline: 2px dashed var(--border-color-primary); }
#caption .caption-note { font-weight: 400; font-size: 1.1rem; }
#caption .caption { padding: .5rem .75rem; border-radius: 8px; background: var(--block-background-fill); }
#caption .caption-text { font-size: var(--caption-size, 2.25rem); line-height: 1.2; font-weight: 600;
  min-height: 1.3em; word-break: break-word; }
#caption .caption.low .caption-text { color: #b45309; font-style: italic; }
#caption .caption-empty { color: var(--body-text-color-subdued); font-weight: 400; font-size: 1.1rem; }
#caption .meter { position: relative; height: 12px; border: 1px solid var(--border-color-primary);
  border-radius: 6px; margin-top: .4rem; overflow: visible; }
#caption .meter-fill { height: 100%; background: #16a34a; border-radius: 6px; }
#caption .caption.low .meter-fill { background: #dc2626; }
#caption .meter-threshold { position: absolute; top: -4px; width: 3px; height: 20px; background: currentColor; }
#caption .caption-label { font-size: .95rem; margin-top: .25rem; }
/* High contrast (WCAG AA: every text >= 4.5:1, checked by the browser tests from the page's styles).
   Gradio's theme paints some text through its own variables (block labels on white, the accordion
   and table text in #27272a): each is set here, not only the body colours. */
html.hc body, html.hc body .gradio-container { --body-background-fill: #000; --background-fill-primary: #000;
  --background-fill-secondary: #000; --block-background-fill: #000; --input-background-fill: #000;
  --body-text-color: #fff; --block-label-text-color: #fff; --block-title-text-color: #fff;
  --block-info-text-color: #fff; --input-placeholder-color: #d4d4d8;
  --body-text-color-subdued: #fff; --border-color-primary: #fff; --block-border-color: #fff;
  --block-label-background-fill: #000; --block-label-border-color: #fff; --accordion-text-color: #fff;
  --table-text-color: #fff; --table-even-background-fill: #000; --table-odd-background-fill: #000;
  --table-row-focus: #333; --table-border-color: #fff; --color-accent-soft: #333;
  --checkbox-label-background-fill: #000; --checkbox-label-background-fill-hover: #000;
  --checkbox-label-background-fill-selected: #000; --checkbox-label-text-color: #fff;
  --checkbox-label-text-color-selected: #fff; --checkbox-label-border-color: #fff;
  --checkbox-label-border-color-hover: #fff; --checkbox-label-border-color-selected: #ffd400;
  --checkbox-background-color: #000; --checkbox-background-color-hover: #000; --checkbox-background-color-focus: #000;
  --checkbox-border-color: #fff; --checkbox-border-color-hover: #fff; --checkbox-border-color-focus: #ffd400;
  --checkbox-background-color-selected: #ffd400; --checkbox-border-color-selected: #ffd400;
  --button-secondary-background-fill: #000; --button-secondary-background-fill-hover: #333;
  --button-secondary-text-color: #fff; --button-secondary-text-color-hover: #fff;
  --button-secondary-border-color: #fff; --button-primary-background-fill: #ffd400;
  --button-primary-background-fill-hover: #ffe566; --button-primary-text-color: #000;
  --button-primary-text-color-hover: #000; --color-accent: #ffd400; --loader-color: #ffd400;
  --slider-color: #ffd400; --link-text-color: #7dd3fc; --link-text-color-hover: #bae6fd; --link-text-color-visited: #c4b5fd;
  background: #000 !important; color: #fff !important; }
html.hc body #question-count { color: #fff; }
html.hc body #question-count.over { color: #ffd400; }
html.hc body #caption .caption.low .caption-text { color: #ffd400; }
html.hc body button.secondary { background: #000 !important; color: #fff !important; border: 2px solid #fff !important; }
html.hc body button.primary { background: #ffd400 !important; color: #000 !important; }
html.hc body #cam .cam-btn:disabled, html.hc body #calibrate button:disabled { border-style: dashed !important; }
html.hc body *:focus-visible, *:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
html.hc body *:focus-visible { outline-color: #ffd400; }
#calib-prompt .calib-row { display: flex; gap: 1rem; align-items: center; }
#calib-prompt .calib-letter { font-size: 3rem; font-weight: 700; line-height: 1; margin: .25rem 0; }
#calib-prompt .meter { height: 12px; border: 1px solid var(--border-color-primary); border-radius: 6px; margin: .4rem 0; }
#calib-prompt .meter-fill { height: 100%; background: #16a34a; border-radius: 6px; }
#cam canvas { width: 100%; height: auto; background: #111; border-radius: 8px; display: block; }
#cam .cam-bar { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-top: .5rem; }
#cam .cam-btn { padding: .45rem 1rem; border-radius: 8px; font-weight: 600; cursor: pointer;
  border: 1px solid var(--border-color-primary); }
#cam .cam-btn.primary { background: var(--button-primary-background-fill); color: var(--button-primary-text-color); }
#cam .cam-btn.secondary { background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color); }
#cam .cam-btn:disabled { cursor: default; border-style: dashed; opacity: 1; background: var(--block-background-fill);
  color: var(--body-text-color-subdued); }
/* Disabled is told by a dashed border and no fill, not by fading the text below 4.5:1. */
#calibrate button:disabled { opacity: 1; border-style: dashed; background: var(--block-background-fill);
  color: var(--body-text-color-subdued); cursor: default; }
#calib-prompt .calib-camera { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; font-weight: 600; }
#calib-prompt .calib-row svg { margin-right: .25rem; }
#calib-prompt [data-cam-start] { padding: .45rem 1rem; border-radius: 8px; font-weight: 600; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--button-primary-background-fill);
  color: var(--button-primary-text-color); }
"""

# Keyboard shortcuts (Alt+key) on top of ordinary Tab/Enter/Space operation of every control; arrow
# keys between tabs (the WAI-ARIA tabs pattern); the question's length counter; preferences kept in
# this browser, applied before the page draws so a reload does not flash the default theme.
HEAD = """
<script>
(() => {
  const store = (k, v) => { try { if (v === undefined) return localStorage.getItem(k); localStorage.setItem(k, v); } catch (e) { return null; } };
  const apply = (hc, size) => {
    document.documentElement.classList.toggle('hc', hc);
    if (size) document.documentElement.style.setProperty('--caption-size', size + 'rem');
  };
  apply(store('asl-gpt-hc') === '1', store('asl-gpt-caption-size'));
  window.aslGptPrefs = {
    contrast: (v) => { apply(!!v); store('asl-gpt-hc', v ? '1' : '0'); },
    captionSize: (v) => { apply(store('asl-gpt-hc') === '1', v); store('asl-gpt-caption-size', String(v)); },
    saved: () => [store('asl-gpt-hc') === '1', parseFloat(store('asl-gpt-caption-size')) || 2.25],
  };
})();
document.addEventListener('keydown', (e) => {
  const tab = e.target.closest && e.target.closest('[role="tab"]');
  if (tab && ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && !e.altKey && !e.ctrlKey && !e.metaKey) {
    const list = tab.closest('[role="tablist"]') || tab.parentElement;
    const tabs = [...list.querySelectorAll('[role="tab"]')].filter((t) => !t.disabled && t.offsetParent !== null);
    const i = tabs.indexOf(tab), n = tabs.length;
    const j = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i - 1 + n) % n : e.key === 'Home' ? 0 : n - 1;
    if (n && j !== i) { tabs[j].focus(); tabs[j].click(); }
    e.preventDefault();
    return;
  }
  if (!e.altKey || e.ctrlKey || e.metaKey) return;
  const ids = {s: 'send-btn', c: 'clear-btn', w: 'delete-word-btn', r: 'restore-btn', a: 'ask-btn'};
  const k = e.key.toLowerCase();
  if (k === 'v' && window.aslGptCamera) {
    window.aslGptCamera.running() ? window.aslGptCamera.stop() : window.aslGptCamera.start(); e.preventDefault(); return;
  }
  if (k === 'q') { const t = document.querySelector('#question textarea'); if (t) { t.focus(); e.preventDefault(); } return; }
  if (k === 'p') { const t = document.querySelector('#pending textarea'); if (t) { t.focus(); e.preventDefault(); } return; }
  if (ids[k]) { const b = document.getElementById(ids[k]); if (b) { b.click(); e.preventDefault(); } }
});
// The question's length: on every key, and on every change the app makes (Ask empties the box).
window.aslGptCount = (text) => {
  const c = document.getElementById('question-count');
  if (!c) return;
  const n = (text || '').length, limit = +c.dataset.limit;
  c.textContent = n + ' / ' + limit + ' characters' + (n > limit ? ': too long to ask, shorten it' : '');
  c.classList.toggle('over', n > limit);
};
document.addEventListener('input', (e) => {
  if (e.target.closest && e.target.closest('#question')) window.aslGptCount(e.target.value);
  if (e.target.closest && e.target.closest('#pending')) e.target.dataset.edited = '1';  // see FILL_JS
});
// Icon buttons Gradio draws in the chat without a name (the open/close arrow of a Sources group), and its
// trash button, which clears the whole conversation but was called "Clear" like the pending box's button.
new MutationObserver(() => {
  for (const b of document.querySelectorAll('#chat button.icon-button')) {
    const label = b.getAttribute('aria-label');
    const name = !label ? (b.querySelector('.dropdown-arrow') ? 'Show or hide' : '')
      : label === 'Clear' ? 'Clear the conversation' : '';
    if (name) { b.setAttribute('aria-label', name); b.title = name; }
  }
}).observe(document.documentElement, {childList: true, subtree: true});
</script>
"""

# The pending box takes recognised text from the hidden feed only while the user is not in it and has not
# typed in it: a value set from the server would replace keys typed meanwhile, and the server learns of the
# first key only a round trip later. So the first key freezes the box in the page itself (data-edited) until
# Send, Clear, Restore or a video's utterance hands it back. Returning the box's own text is a no-op.
FILL_JS = """(feed) => {
  const box = document.querySelector('#pending textarea');
  let f = null;
  try { f = JSON.parse(feed); } catch (e) { /* empty feed */ }
  if (!f || (box && (document.activeElement === box || box.dataset.edited))) return box ? box.value : '';
  return f.text;
}"""
HANDS_BACK_JS = """(...inputs) => {
  const box = document.querySelector('#pending textarea');
  if (box) delete box.dataset.edited;
  return inputs;
}"""

HELP = ("Keys: **Tab** moves between controls, **←/→** between tabs, **Enter** asks a typed question, "
        "**Alt+V** starts or stops the camera, **Alt+S** sends the pending utterance, **Alt+W** deletes its last "
        "word, **Alt+C** clears it, **Alt+R** restores a rejected segment (exactly as it was read, marked low "
        "confidence), **Alt+P** edits it, **Alt+Q** goes to the typed question.  \n"
        "While you edit the pending box, auto-send waits and recognition does not change your text (the caption "
        "shows what it reads meanwhile); **Send** or **Clear** hands the box back to signing. Each question in the "
        "chat says whether it was signed, signed and edited, or typed. High contrast and the caption size are "
        "remembered in this browser.")


def _session(request) -> str:
    return getattr(request, "session_hash", None) or "default"


@dataclass
class App:
    """The built app: its Blocks and what its handlers share, for `launch`, the benchmarks and tests."""

    demo: gr.Blocks
    registry: LiveRegistry  # the live sessions, one per browser tab
    probe: StatusProbe  # index and LLM status, shared by all sessions
    warming: threading.Thread | None = None  # loads the model and the assistant in the background

    def close(self) -> None:
        """Stop the server (if launched) and every live session."""
        self.demo.close()
        self.registry.close()


def build_demo(services, live_options: LiveOptions | None = None, initial_index: bool = True) -> App:
    """The app over injected services (see asl_gpt.services). Nothing heavy happens here; with
    `initial_index` an empty index is built from the knowledge folder in the background (first run)
    and the model and assistant are loaded in the background."""

    if live_options is None:  # the settings' frame size (test fakes may carry none)
        cfg = getattr(services.settings, "recognizer", None)
        live_options = LiveOptions(max_side=getattr(cfg, "max_side", LiveOptions.max_side))
    registry = LiveRegistry(services, live_options)
    probe = StatusProbe(services)

    with gr.Blocks(title="ASL GPT", delete_cache=(120, 300), analytics_enabled=False) as demo:
        turns = gr.State([])  # clean history for follow-ups
        box_rev = gr.State(-1)  # the pending box text revision last sent to this page
        signed_q = gr.State(None)  # {"n", "turns": [...]}: pending-box turns to answer, in order
        limit = int(getattr(getattr(services.settings, "rag", None), "max_question_chars", 2000))

        with gr.Row(equal_height=False):
            with gr.Column(scale=4):
                gr.Markdown("# ASL GPT\nFingerspell a question to your camera, or type one; answers cite the "
                            "knowledge base.")
            with gr.Column(scale=3, min_width=280):  # where a user looks first, not on the Status tab
                high_contrast = gr.Checkbox(False, label="High contrast", elem_id="high-contrast")
                with gr.Accordion("Keyboard shortcuts", open=False, elem_id="shortcuts"):
                    gr.Markdown(HELP)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5, min_width=360):
                        gr.HTML(camera.widget_html(), elem_id="camera", js_on_load=None)
                        live_key = gr.Textbox(visible="hidden", elem_id="live-key")  # the camera socket's token
                        live_md = gr.Markdown(elem_id="live-status")
                        caption = gr.HTML(caption_html(LiveState()), elem_id="caption")
                        pending = gr.Textbox(label="Pending utterance (edit before sending)", elem_id="pending",
                                             lines=2, max_lines=4)
                        # Recognised text reaches the box through this hidden feed and a browser-side
                        # check (FILL_JS), never while the user is in the box: see on_tick.
                        pending_feed = gr.Textbox(visible="hidden", elem_id="pending-feed")
                        with gr.Row():
                            send_btn = gr.Button("Send", variant="primary", elem_id="send-btn")
                            delword_btn = gr.Button("Delete word", elem_id="delete-word-btn")
                            clear_btn = gr.Button("Clear", elem_id="clear-btn")
                            restore_btn = gr.Button("Restore rejected", elem_id="restore-btn")
                        rejected_md = gr.Markdown(elem_id="rejected")
                        auto_send = gr.Checkbox(True, label="Auto-send when I lower my hands or pause",
                                                elem_id="auto-send")
                        with gr.Accordion("No camera? Upload a video", open=False):
                            video_file = gr.File(label="Video file", file_types=["video"], type="filepath",
                                                 elem_id="video-file")
                            video_btn = gr.Button("Recognise the video", elem_id="video-btn")
                            video_msg = gr.Markdown(elem_id="video-msg")
                            video_choice = gr.Radio([], label="Recognised utterances", elem_id="video-choice")
                            use_btn = gr.Button("Use this utterance", elem_id="use-utterance-btn")
                        with gr.Accordion("Calibrate: teach it your hand", open=False,
                                          elem_id="calibrate") as calib_tab:
                            calib_prompt = gr.HTML(calib.prompt_html(None, False), elem_id="calib-prompt")
                            with gr.Row():
                                calib_name = gr.Textbox("profile", label="Profile name", elem_id="calib-name",
                                                        max_lines=1)
                                calib_letters = gr.Textbox("ABCDEFGHIJKLMNOPQRSTUVWXYZ", label="Letters",
                                                           elem_id="calib-letters", max_lines=1)
                            with gr.Row():
                                calib_start = gr.Button("Start", variant="primary", elem_id="calib-start-btn")
                                # usable only while a capture runs (they did nothing, silently, before Start)
                                calib_keep = gr.Button("Keep this take", elem_id="calib-keep-btn", interactive=False)
                                calib_retake = gr.Button("Retake", elem_id="calib-retake-btn", interactive=False)
                                calib_skip = gr.Button("Skip letter", elem_id="calib-skip-btn", interactive=False)
                                calib_finish = gr.Button("Finish and save", elem_id="calib-finish-btn",
                                                         interactive=False)
                            calib_msg = gr.Markdown(elem_id="calib-msg")
                            with gr.Row():
                                calib_profiles = gr.Dropdown([calib.NONE], value=calib.NONE, label="Profile in use",
                                                             elem_id="calib-profiles", allow_custom_value=False)
                                calib_delete = gr.Button("Delete profile", elem_id="calib-delete-btn")
                            calib_view = gr.Markdown(elem_id="calib-view")
                    with gr.Column(scale=6, min_width=360):
                        # no share button (it had no name, and nothing is shared from here)
                        chatbot = gr.Chatbot(label="Answers", elem_id="chat", height=560, autoscroll=True,
                                             buttons=["copy", "copy_all"])
                        question = gr.Textbox(label="Type a question", placeholder="e.g. What is fingerspelling?",
                                              elem_id="question", lines=1, max_lines=6, submit_btn=False,
                                              info=f"Up to {limit} characters.")
                        gr.HTML(f"<div id='question-count' data-limit='{limit}'>0 / {limit} characters</div>",
                                elem_id="question-count-box")
                        with gr.Row():
                            ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn")
                            new_chat_btn = gr.Button("New conversation", elem_id="new-chat-btn")
                        chat_md = gr.Markdown(elem_id="chat-status")
            with gr.Tab("Knowledge", id="knowledge") as kb_tab:
                docs = gr.Dataframe(headers=["document", "title", "chunks"], datatype=["str", "str", "number"],
                                    interactive=False, label="Indexed documents", elem_id="documents")
                kb_files = gr.File(label="Add documents (.md, .txt, .html, .pdf)", file_count="multiple",
                                   type="filepath", elem_id="kb-files")
                with gr.Row():
                    upload_btn = gr.Button("Upload and index", variant="primary", elem_id="upload-btn")
                    reindex_btn = gr.Button("Reindex all", elem_id="reindex-btn")
                    rebuild = gr.Checkbox(False, label="Rebuild from scratch", elem_id="rebuild")
                kb_md = gr.Markdown(elem_id="kb-status")
            with gr.Tab("Status and settings", id="status") as status_tab:
                status_md = gr.Markdown(elem_id="status")
                check_llm_btn = gr.Button("Check the LLM now (starts the embedded model)", elem_id="check-llm-btn")
                threshold = gr.Slider(0.0, 1.0, value=BufferOptions.min_confidence, step=0.05,
                                      label="Confidence threshold (this session)", elem_id="threshold")
                end_pause = gr.Slider(300, 5000, value=1500, step=100,
                                      label="End-of-utterance pause, ms (this session)", elem_id="end-pause")
                caption_size = gr.Slider(1.0, 5.0, value=2.25, step=0.25, label="Caption size (rem)",
                                         elem_id="caption-size")
        timer = gr.Timer(TICK_S)

        # -- live video: frames go over the camera socket; this refreshes what they changed -----------
        def on_tick(rev, request: gr.Request):
            live = registry.get(_session(request))
            s = live.state()
            sent = live.take_outgoing()  # auto-sent (the signer paused)
            # The box is refreshed only when the server's text for it changed, and then only through
            # the feed: pushing into the textbox itself overwrote keys typed while the push was in flight.
            feed = json.dumps({"rev": s.box_rev, "text": s.box}) if s.box_rev != rev else gr.skip()
            rej = f"Rejected (low confidence): {s.last_rejected}" if s.last_rejected else ""
            return (feed, s.box_rev, caption_html(s), live_status(s), rej,
                    _turns_item(sent) if sent else gr.skip(), _calib_refresh(live, s.camera_on))

        # Gradio 6.31 still draws its "processing | 0.0s" strip over HTML and Markdown outputs of an event
        # with show_progress="hidden" (a timer's flickered every tick); no progress targets at all hides it.
        quiet = dict(concurrency_limit=None, show_progress="hidden", show_progress_on=[])
        timer.tick(on_tick, [box_rev], [pending_feed, box_rev, caption, live_md, rejected_md, signed_q, calib_prompt],
                   queue=True, **quiet)
        pending_feed.change(None, [pending_feed], [pending], js=FILL_JS, queue=False, show_progress="hidden",
                            show_progress_on=[])

        # -- the pending box in the user's hands (each handler gets the box's text as the page has it) --

        def on_focus(text, request: gr.Request):
            registry.get(_session(request)).focus(text or "")

        def on_blur(text, request: gr.Request):
            registry.get(_session(request)).blur(text or "")

        def on_edit(text, request: gr.Request):
            registry.get(_session(request)).edit(text or "")

        pending.focus(on_focus, pending, None, **quiet)
        pending.blur(on_blur, pending, None, **quiet)
        # always_last: keys typed while an update is on its way are not dropped (the last text always arrives)
        pending.input(on_edit, pending, None, trigger_mode="always_last", **quiet)

        def on_send(text, request: gr.Request):
            got = registry.get(_session(request)).send(text or "")
            if not isinstance(got, Turn):
                gr.Warning(f"Not sent: {got}." + (" Edit the text, or press Restore rejected to send the reading "
                                                  "anyway." if "threshold" in got else ""))
                return gr.skip(), gr.skip()
            return "", _turns_item([got])

        send_btn.click(on_send, pending, [pending, signed_q], js=HANDS_BACK_JS, **quiet)

        def on_clear(request: gr.Request):
            registry.get(_session(request)).clear()
            return ""

        clear_btn.click(on_clear, None, pending, js=HANDS_BACK_JS, **quiet)

        def on_delete_word(text, request: gr.Request):
            return registry.get(_session(request)).delete_last_word(text or "")

        delword_btn.click(on_delete_word, pending, pending, **quiet)

        def on_restore(request: gr.Request):
            got = registry.get(_session(request)).restore_rejected()
            if got is None:
                gr.Warning("Nothing to restore: no segment was rejected.")
                return gr.skip(), gr.skip()
            return got, ""

        restore_btn.click(on_restore, None, [pending, rejected_md], js=HANDS_BACK_JS, **quiet)

        def on_options(th, pause, auto, request: gr.Request):
            registry.get(_session(request)).set_options(float(th), float(pause), bool(auto))

        for c in (threshold, end_pause, auto_send):
            c.change(on_options, [threshold, end_pause, auto_send], None, **quiet)

        # -- calibration: this session's frames teach a profile; the profile chosen reads this session ---
        def _calib_refresh(live, camera_on: bool):
            """The Calibrate panel's prompt while this session calibrates (refreshed by on_tick)."""
            state = live.with_capture(lambda cap: cap.state())
            if state is None:
                return gr.skip()
            calib.autosave(services, live)  # each accepted letter is kept at once: a closed tab loses nothing
            return calib.prompt_html(state, True, live.capture_letters, camera_on)

        def _calib_buttons(on: bool):
            return [gr.update(interactive=on)] * 4  # keep, retake, skip, finish

        def _calib_call(fn, *args):
            try:
                return fn(*args)
            except AslGptError as e:
                gr.Warning(web_text(str(e)))
                return None

        def on_calib_start(name, letters, request: gr.Request):
            live = registry.get(_session(request))
            cap = _calib_call(calib.new_capture, services, letters, name)
            if cap is None:
                return gr.skip(), gr.skip(), *[gr.skip()] * 4
            live.start_calibration(cap, name)
            camera_on = live.state().camera_on
            return calib.prompt_html(cap.state(), True, live.capture_letters, camera_on), (
                f"Calibrating {len(cap.queue)} letters: recognition pauses until you finish."
                + (f" Resuming {cap.profile.letters.upper()}." if cap.profile.samples else "")
                + ("" if camera_on else " The camera is off: press Start camera.")), *_calib_buttons(True)

        def on_calib_action(action, request: gr.Request):
            live = registry.get(_session(request))
            state = live.with_capture(lambda cap: getattr(cap, action)())
            if state is None:
                gr.Warning("Press Start first.")
                return gr.skip()
            return calib.prompt_html(state, True, live.capture_letters, live.state().camera_on)

        def on_calib_finish(name, request: gr.Request):
            live = registry.get(_session(request))
            letters = live.capture_letters
            cap = live.stop_calibration()  # the worker stops feeding it before it is fitted
            if cap is None:
                gr.Warning("Press Start first.")
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), *_calib_buttons(False)
            msg = _calib_call(calib.save_and_use, services, live, cap, name)
            if msg is None:  # not saved (say, a bad name): the capture goes on, nothing is lost
                live.start_calibration(cap, live.capture_name, letters)
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), *[gr.skip()] * 4
            chosen = live.profile or calib.NONE
            return (calib.prompt_html(None, False), msg,
                    gr.update(choices=calib.profile_names(services), value=chosen), calib.describe(services, chosen),
                    *_calib_buttons(False))

        def on_calib_use(name, request: gr.Request):
            live = registry.get(_session(request))
            if name == (live.profile or calib.NONE):
                return calib.describe(services, name)
            return calib.use_profile(services, live, name) + "  \n" + calib.describe(services, name)

        def on_calib_delete(name, request: gr.Request):
            live = registry.get(_session(request))
            msg = _calib_call(calib.delete_profile, services, live, name)
            choices = gr.update(choices=calib.profile_names(services), value=live.profile or calib.NONE)
            return msg or gr.skip(), choices

        def on_calib_open(request: gr.Request):
            live = registry.get(_session(request))
            chosen = live.profile or calib.NONE
            return (gr.update(choices=calib.profile_names(services), value=chosen), calib.describe(services, chosen),
                    *_calib_buttons(live.capture is not None))

        def on_calib_keep(request: gr.Request):
            return on_calib_action("keep", request)

        def on_calib_retake(request: gr.Request):
            return on_calib_action("retake", request)

        def on_calib_skip(request: gr.Request):
            return on_calib_action("skip", request)

        calib_actions = [calib_keep, calib_retake, calib_skip, calib_finish]
        calib_start.click(on_calib_start, [calib_name, calib_letters], [calib_prompt, calib_msg, *calib_actions],
                          **quiet)
        calib_keep.click(on_calib_keep, None, calib_prompt, **quiet)
        calib_retake.click(on_calib_retake, None, calib_prompt, **quiet)
        calib_skip.click(on_calib_skip, None, calib_prompt, **quiet)
        calib_finish.click(on_calib_finish, calib_name,
                           [calib_prompt, calib_msg, calib_profiles, calib_view, *calib_actions],
                           concurrency_id="calibrate", concurrency_limit=2)
        calib_profiles.input(on_calib_use, calib_profiles, calib_view, **quiet)
        calib_delete.click(on_calib_delete, calib_profiles, [calib_view, calib_profiles], **quiet)
        calib_tab.expand(on_calib_open, None, [calib_profiles, calib_view, *calib_actions], **quiet)

        # -- answers -----------------------------------------------------------------------------
        def _backend():
            try:
                return services.assistant()
            except AslGptError as e:
                raise gr.Error(str(e))

        def on_typed(text, chat, hist):
            text = (text or "").strip()
            backend = _backend()
            try:
                backend.validate(text)
            except AslGptError as e:
                msg = web_text(str(e))
                gr.Warning(msg)  # the text stays in the box
                yield gr.skip(), gr.skip(), msg, gr.skip()
                return
            for chat_, hist_, status in answer_turn(backend, Question(text, "typed"), chat, hist):
                yield chat_, hist_, status, ""

        # The chat status line says in words what is happening; Gradio's own strip ("queue: 1/1 | 0.2/1.2s",
        # "processing | 0.1s", drawn after the old status) is hidden on every output of an answer.
        answer_quiet = dict(concurrency_id="llm", concurrency_limit=LLM_CONCURRENCY, show_progress="hidden",
                            show_progress_on=[])
        typed_args = dict(fn=on_typed, inputs=[question, chatbot, turns], outputs=[chatbot, turns, chat_md, question],
                          **answer_quiet)
        question.submit(**typed_args)
        ask_btn.click(**typed_args)

        def on_signed(item, chat, hist):
            if not item:
                return
            for t in item["turns"]:
                q = Question(t["text"], t["source"], raw=t["recognised"] or None, confidence=t["confidence"],
                             low_confidence=t["low_confidence"])
                for chat, hist, status in answer_turn(_backend(), q, chat, hist):
                    yield chat, hist, status

        signed_q.change(on_signed, [signed_q, chatbot, turns], [chatbot, turns, chat_md], **answer_quiet)
        new_chat_btn.click(lambda: ([], [], ""), None, [chatbot, turns, chat_md], **quiet)
        chatbot.clear(lambda: ([], ""), None, [turns, chat_md], **quiet)  # its trash button: a new conversation too
        question.change(None, question, None, js="(v) => window.aslGptCount(v)")  # also when Ask empties it

        # -- uploaded video ------------------------------------------------------------------------
        def on_video(path, th, request: gr.Request, progress=gr.Progress()):
            if not path:
                return "Choose a video file first.", gr.update(choices=[], value=None), {}
            from asl_gpt.app.video import recognize_upload

            try:
                msg, found = recognize_upload(services, path, float(th), progress)
            except AslGptError as e:  # its message names the upload's temporary copy: show the file's name
                return f"⚠ {web_text(str(e), (str(path),))}", gr.update(choices=[], value=None), {}
            choices = [t for t, _ in found]
            return msg, gr.update(choices=choices, value=choices[0] if choices else None), dict(found)

        video_confidence = gr.State({})  # utterance -> its recognised confidence
        video_btn.click(on_video, [video_file, threshold], [video_msg, video_choice, video_confidence],
                        concurrency_id="video", concurrency_limit=1)

        def on_use(choice, confidences, request: gr.Request):
            if not choice:
                gr.Warning("Pick an utterance first.")
                return gr.skip()
            return registry.get(_session(request)).use_text(choice, float((confidences or {}).get(choice, 1.0)))

        use_btn.click(on_use, [video_choice, video_confidence], pending, js=HANDS_BACK_JS, **quiet)

        # -- knowledge -----------------------------------------------------------------------------
        from asl_gpt.app import knowledge as kn

        def on_docs():
            return kn.documents_table(services)

        kb_tab.select(on_docs, None, docs, concurrency_limit=None)

        # The status line is each run's own, in words: the previous one is replaced at once, and the progress
        # bar ("embedding 32/237 chunks") is drawn over the documents table, not over the status.
        index_args = dict(concurrency_id="index", concurrency_limit=1, show_progress_on=[docs])

        def on_upload(files, progress=gr.Progress()):
            if files:
                yield "Uploading and indexing…", gr.skip(), gr.skip()
            msg = kn.upload_and_index(services, probe, files or [], progress)
            yield web_text(msg, tuple(str(f) for f in files or [])), kn.documents_table(services), None

        upload_btn.click(on_upload, kb_files, [kb_md, docs, kb_files], **index_args)

        def on_reindex(full, progress=gr.Progress()):
            yield "Reindexing…", gr.skip()
            msg = kn.reindex(services, probe, bool(full), progress)
            yield web_text(msg), kn.documents_table(services)

        reindex_btn.click(on_reindex, rebuild, [kb_md, docs], **index_args)

        # -- status and accessibility -------------------------------------------------------------
        def on_status(request: gr.Request):
            s = registry.get(_session(request)).state()
            return full_status(s, probe.index(), probe.llm())

        def on_check_llm(request: gr.Request):
            probe.llm(start=True)
            return on_status(request)

        status_tab.select(on_status, None, status_md, concurrency_limit=None)
        gr.Timer(3.0).tick(on_status, None, status_md, **quiet)
        check_llm_btn.click(on_check_llm, None, status_md, concurrency_id="llm-check", concurrency_limit=1)
        # Both are remembered in this browser (localStorage) and applied before the page draws (HEAD).
        high_contrast.change(None, high_contrast, None, js="(v) => window.aslGptPrefs.contrast(v)")
        caption_size.change(None, caption_size, None, js="(v) => window.aslGptPrefs.captionSize(v)")
        demo.load(None, None, [high_contrast, caption_size], js="() => window.aslGptPrefs.saved()")

        def on_load(request: gr.Request):
            key = _session(request)
            th = registry.get(key).state().threshold
            return gr.update(value=th), kn.documents_table(services), registry.token(key)

        demo.load(on_load, None, [threshold, docs, live_key], concurrency_limit=None)

        def on_unload(request: gr.Request):
            registry.drop(_session(request))

        demo.unload(on_unload)
    app = App(demo, registry, probe)
    if initial_index:
        kn.start_initial_index(services, probe)
        app.warming = threading.Thread(target=warm_up, args=(services,), name="warm-up", daemon=True)
        app.warming.start()  # the benchmark waits for it
    return app


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
    """Start the app with its CSS and keyboard shortcuts (Gradio 6 takes these at launch)."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = app.demo
    demo.queue(default_concurrency_limit=4)
    head = HEAD + "<script>\n" + camera.script(app.registry.options.max_side) + "\n</script>\n"
    out = demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, css=CSS, head=head,
                      show_error=True, app_kwargs={"routes": [camera.websocket_route(app.registry)]}, **kwargs)
    # Camera frames are JPEG: per-message deflate (on by default, offered by every browser) would only
    # spend CPU on both sides compressing the incompressible. Read by uvicorn per new connection.
    config = getattr(getattr(demo, "server", None), "config", None)
    if config is not None and hasattr(config, "ws_per_message_deflate"):
        config.ws_per_message_deflate = False
    if not prevent_thread_lock:
        demo.block_thread()
    return out

