"""The Gradio app: live video beside the chat, typed questions for comparison, knowledge, status.

`build_demo(services)` returns the Blocks; `launch(demo, ...)` starts it with the app's CSS, the
camera script and keyboard shortcuts (Gradio 6 takes css/head at launch) and the camera socket
(asl_gpt.app.camera) on the same server. Per-session state lives in gr.State and in a
`LiveRegistry` keyed by the session hash (dropped when the tab unloads). Camera frames never enter
Gradio's queue; concurrency groups keep the rest apart: the LLM answers run in their own group,
indexing and uploaded-video recognition in theirs.
"""

from __future__ import annotations

import logging
import threading

import gradio as gr  # this module is the Gradio adapter; handlers' `gr.Request` hints resolve here

from asl_gpt.app import camera
from asl_gpt.app.chat import Question, answer_turn
from asl_gpt.app.live import LiveOptions, LiveRegistry, LiveState
from asl_gpt.app.status import StatusProbe, caption_html, full_status, live_status
from asl_gpt.buffer import Committed
from asl_gpt.errors import AslGptError

log = logging.getLogger(__name__)

TICK_S = 0.5  # UI refresh of the pending text, caption and status
LLM_CONCURRENCY = 2  # answers streaming at once (all sessions); the embedded LLM serves one at a time anyway

CSS = """
#caption .caption { padding: .5rem .75rem; border-radius: 8px; background: var(--block-background-fill); }
#caption .caption-text { font-size: var(--caption-size, 2.25rem); line-height: 1.2; font-weight: 600;
  min-height: 1.3em; word-break: break-word; }
#caption .caption.low .caption-text { color: #b45309; font-style: italic; }
#caption .caption-empty { opacity: .55; font-weight: 400; font-size: 1.1rem; }
#caption .meter { position: relative; height: 12px; border: 1px solid var(--border-color-primary);
  border-radius: 6px; margin-top: .4rem; overflow: visible; }
#caption .meter-fill { height: 100%; background: #16a34a; border-radius: 6px; }
#caption .caption.low .meter-fill { background: #dc2626; }
#caption .meter-threshold { position: absolute; top: -4px; width: 3px; height: 20px; background: currentColor; }
#caption .caption-label { font-size: .95rem; margin-top: .25rem; }
body.hc, body.hc .gradio-container { --body-background-fill: #000; --background-fill-primary: #000;
  --background-fill-secondary: #000; --block-background-fill: #000; --input-background-fill: #000;
  --body-text-color: #fff; --block-label-text-color: #fff; --block-title-text-color: #fff;
  --body-text-color-subdued: #fff; --border-color-primary: #fff; --block-border-color: #fff;
  --button-secondary-background-fill: #000; --button-secondary-text-color: #fff;
  --button-secondary-border-color: #fff; --button-primary-background-fill: #ffd400;
  --button-primary-text-color: #000; --color-accent: #ffd400; --link-text-color: #7dd3fc;
  background: #000 !important; color: #fff !important; }
body.hc #caption .caption.low .caption-text { color: #ffd400; }
body.hc button.secondary { background: #000 !important; color: #fff !important; border: 2px solid #fff !important; }
body.hc button.primary { background: #ffd400 !important; color: #000 !important; }
body.hc *:focus-visible, *:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
body.hc *:focus-visible { outline-color: #ffd400; }
#cam canvas { width: 100%; height: auto; background: #111; border-radius: 8px; display: block; }
#cam .cam-bar { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-top: .5rem; }
#cam .cam-btn { padding: .45rem 1rem; border-radius: 8px; font-weight: 600; cursor: pointer;
  border: 1px solid var(--border-color-primary); }
#cam .cam-btn.primary { background: var(--button-primary-background-fill); color: var(--button-primary-text-color); }
#cam .cam-btn.secondary { background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color); }
#cam .cam-btn:disabled { opacity: .5; cursor: default; }
"""

# Keyboard shortcuts (Alt+key) on top of ordinary Tab/Enter/Space operation of every control.
HEAD = """
<script>
document.addEventListener('keydown', (e) => {
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
</script>
"""

HELP = ("Keys: **Tab** moves between controls, **Enter** asks a typed question, **Alt+V** starts or stops the "
        "camera, **Alt+S** sends the pending "
        "utterance, **Alt+W** deletes its last word, **Alt+C** clears it, **Alt+R** restores a rejected segment, "
        "**Alt+P** edits it, **Alt+Q** goes to the typed question.")


def _session(request) -> str:
    return getattr(request, "session_hash", None) or "default"


def build_demo(services, live_options: LiveOptions = LiveOptions(), initial_index: bool = True):
    """The app over injected services (see asl_gpt.services). Nothing heavy happens here; with
    `initial_index` an empty index is built from the knowledge folder in the background (first run)
    and the model and assistant are loaded in the background."""

    registry = LiveRegistry(services, live_options)
    probe = StatusProbe(services)

    with gr.Blocks(title="ASL GPT", delete_cache=(120, 300)) as demo:
        demo.registry = registry  # for the benchmark and tests: frames reaching recognition
        demo.probe = probe
        turns = gr.State([])  # clean history for follow-ups
        shown = gr.State("")  # the buffer text last put in the pending box
        raw = gr.State("")  # the recognised (unedited) text of the pending utterance
        signed_q = gr.State(None)  # {"n", "text", "raw", "confidence"}: a committed utterance to answer

        gr.Markdown("# ASL GPT\nFingerspell a question to your camera, or type one; answers cite the knowledge base.")
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
                    with gr.Column(scale=6, min_width=360):
                        chatbot = gr.Chatbot(label="Answers", elem_id="chat", height=560, autoscroll=True)
                        question = gr.Textbox(label="Type a question", placeholder="e.g. What is fingerspelling?",
                                              elem_id="question", lines=1, max_lines=6, submit_btn=False)
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
                threshold = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Confidence threshold (this session)",
                                      elem_id="threshold")
                end_pause = gr.Slider(300, 5000, value=1500, step=100,
                                      label="End-of-utterance pause, ms (this session)", elem_id="end-pause")
                high_contrast = gr.Checkbox(False, label="High contrast", elem_id="high-contrast")
                caption_size = gr.Slider(1.0, 5.0, value=2.25, step=0.25, label="Caption size (rem)",
                                         elem_id="caption-size")
                gr.Markdown(HELP)
        timer = gr.Timer(TICK_S)

        # -- live video: frames go over the camera socket; this refreshes what they changed -----------
        def on_tick(shown_text, raw_text, request: gr.Request):
            live = registry.get(_session(request))
            s = live.state()
            committed = live.take_committed()
            out_pending = gr.skip()
            signed = _signed_item(committed[-1], raw_text) if committed else gr.skip()
            if s.text != shown_text:  # recognition changed the buffer: show it (user edits update `shown` too)
                out_pending, shown_text, raw_text = s.text, s.text, s.text
            rej = f"Rejected (low confidence): {s.last_rejected}" if s.last_rejected else ""
            return out_pending, shown_text, raw_text, caption_html(s), live_status(s), rej, signed

        timer.tick(on_tick, [shown, raw], [pending, shown, raw, caption, live_md, rejected_md, signed_q],
                   concurrency_limit=None, show_progress="hidden", queue=True)

        # -- the buffer in the user's hands ------------------------------------------------------
        def on_edit(text, request: gr.Request):
            registry.get(_session(request)).edit(text or "")
            return text or ""

        pending.input(on_edit, pending, shown, show_progress="hidden", concurrency_limit=None)

        def on_send(text, raw_text, request: gr.Request):
            live = registry.get(_session(request))
            text = " ".join((text or "").split())
            if not text:
                gr.Warning("Nothing to send: sign or type something in the pending box first.")
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            if live.state().text != text:
                live.edit(text)
            got = live.send()
            if isinstance(got, Committed):
                item = _signed_item(got, raw_text or text)
            else:
                gr.Warning(f"Not sent: {got}. Edit the text or press Restore rejected to send it anyway.")
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            item["n"] = _counter()
            return "", "", "", item

        send_btn.click(on_send, [pending, raw], [pending, shown, raw, signed_q], concurrency_limit=None)

        def on_clear(request: gr.Request):
            registry.get(_session(request)).clear()
            return "", "", ""

        clear_btn.click(on_clear, None, [pending, shown, raw], concurrency_limit=None)

        def on_delete_word(request: gr.Request):
            live = registry.get(_session(request))
            live.delete_last_word()
            t = live.state().text
            return t, t

        delword_btn.click(on_delete_word, None, [pending, shown], concurrency_limit=None)

        def on_restore(request: gr.Request):
            live = registry.get(_session(request))
            live.restore_rejected()
            t = live.state().text
            return t, t, ""

        restore_btn.click(on_restore, None, [pending, shown, rejected_md], concurrency_limit=None)

        def on_options(th, pause, auto, request: gr.Request):
            registry.get(_session(request)).set_options(float(th), float(pause), bool(auto))

        for c in (threshold, end_pause, auto_send):
            c.change(on_options, [threshold, end_pause, auto_send], None, concurrency_limit=None,
                     show_progress="hidden")

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
                gr.Warning(str(e))  # the text stays in the box
                yield gr.skip(), gr.skip(), str(e), gr.skip()
                return
            for chat_, hist_, status in answer_turn(backend, Question(text, "typed"), chat, hist):
                yield chat_, hist_, status, ""

        typed_args = dict(fn=on_typed, inputs=[question, chatbot, turns], outputs=[chatbot, turns, chat_md, question],
                          concurrency_id="llm", concurrency_limit=LLM_CONCURRENCY)
        question.submit(**typed_args)
        ask_btn.click(**typed_args)

        def on_signed(item, chat, hist):
            if not item:
                return
            q = Question(item["text"], "signed", raw=item.get("raw"), confidence=item.get("confidence"))
            for chat_, hist_, status in answer_turn(_backend(), q, chat, hist):
                yield chat_, hist_, status

        signed_q.change(on_signed, [signed_q, chatbot, turns], [chatbot, turns, chat_md], concurrency_id="llm",
                        concurrency_limit=LLM_CONCURRENCY)
        new_chat_btn.click(lambda: ([], [], ""), None, [chatbot, turns, chat_md], concurrency_limit=None)

        # -- uploaded video ------------------------------------------------------------------------
        def on_video(path, th, request: gr.Request, progress=gr.Progress()):
            if not path:
                return "Choose a video file first.", gr.update(choices=[], value=None)
            from asl_gpt.app.video import recognize_upload

            try:
                msg, choices = recognize_upload(services, path, float(th), progress)
            except AslGptError as e:
                return f"⚠ {e}", gr.update(choices=[], value=None)
            return msg, gr.update(choices=choices, value=choices[0] if choices else None)

        video_btn.click(on_video, [video_file, threshold], [video_msg, video_choice], concurrency_id="video",
                        concurrency_limit=1)

        def on_use(choice, request: gr.Request):
            if not choice:
                gr.Warning("Pick an utterance first.")
                return gr.skip(), gr.skip(), gr.skip()
            registry.get(_session(request)).edit(choice)
            return choice, choice, choice

        use_btn.click(on_use, video_choice, [pending, shown, raw], concurrency_limit=None)

        # -- knowledge -----------------------------------------------------------------------------
        from asl_gpt.app import knowledge as kn

        def on_docs():
            return kn.documents_table(services)

        kb_tab.select(on_docs, None, docs, concurrency_limit=None)

        def on_upload(files, progress=gr.Progress()):
            msg = kn.upload_and_index(services, probe, files or [], progress)
            return msg, kn.documents_table(services), None

        upload_btn.click(on_upload, kb_files, [kb_md, docs, kb_files], concurrency_id="index", concurrency_limit=1)

        def on_reindex(full, progress=gr.Progress()):
            msg = kn.reindex(services, probe, bool(full), progress)
            return msg, kn.documents_table(services)

        reindex_btn.click(on_reindex, rebuild, [kb_md, docs], concurrency_id="index", concurrency_limit=1)

        # -- status and accessibility -------------------------------------------------------------
        def on_status(request: gr.Request):
            s = registry.get(_session(request)).state()
            return full_status(s, probe.index(), probe.llm())

        def on_check_llm(request: gr.Request):
            probe.llm(start=True)
            return on_status(request)

        status_tab.select(on_status, None, status_md, concurrency_limit=None)
        gr.Timer(3.0).tick(on_status, None, status_md, concurrency_limit=None, show_progress="hidden")
        check_llm_btn.click(on_check_llm, None, status_md, concurrency_id="llm-check", concurrency_limit=1)
        high_contrast.change(None, high_contrast, None, js="(v) => { document.body.classList.toggle('hc', v); }")
        caption_size.change(None, caption_size, None,
                            js="(v) => { document.documentElement.style.setProperty('--caption-size', v + 'rem'); }")

        def on_load(request: gr.Request):
            key = _session(request)
            th = registry.get(key).state().threshold
            return gr.update(value=th), kn.documents_table(services), registry.token(key)

        demo.load(on_load, None, [threshold, docs, live_key], concurrency_limit=None)

        def on_unload(request: gr.Request):
            registry.drop(_session(request))

        demo.unload(on_unload)
    if initial_index:
        kn.start_initial_index(services, probe)
        demo.warming = threading.Thread(target=warm_up, args=(services,), name="warm-up", daemon=True)
        demo.warming.start()  # the benchmark waits for it
    return demo


def warm_up(services) -> None:
    """Load the model and the assistant and start the LLM now, so the first page load, the first camera
    frames and the first question do not wait for them (failures are shown by the status probe)."""
    for load in (services.recognizer, services.knowledge, lambda: services.assistant().warm_up()):
        try:
            load()
        except Exception as e:  # noqa: BLE001 - reported in the page, not here
            log.info("warm-up: %s", e)


_n = [0]


def _counter() -> int:
    _n[0] += 1
    return _n[0]


def _signed_item(c: Committed, raw_text: str) -> dict:
    return {"n": _counter(), "text": c.text, "raw": raw_text or c.text, "confidence": round(c.confidence, 3)}


def launch(demo, host: str = "127.0.0.1", port: int | None = None, prevent_thread_lock: bool = False, **kwargs):
    """Start the app with its CSS and keyboard shortcuts (Gradio 6 takes these at launch)."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo.queue(default_concurrency_limit=4)
    head = HEAD + "<script>\n" + camera.script() + "\n</script>\n"
    out = demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, css=CSS, head=head,
                      show_error=True, app_kwargs={"routes": [camera.websocket_route(demo.registry)]}, **kwargs)
    # Camera frames are JPEG: per-message deflate (on by default, offered by every browser) would only
    # spend CPU on both sides compressing the incompressible. Read by uvicorn per new connection.
    config = getattr(getattr(demo, "server", None), "config", None)
    if config is not None and hasattr(config, "ws_per_message_deflate"):
        config.ws_per_message_deflate = False
    if not prevent_thread_lock:
        demo.block_thread()
    return out

