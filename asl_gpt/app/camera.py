"""The browser camera's transport: JPEG frames over a WebSocket in, landmarks and buffer state out.

Gradio 6's streaming webcam delivered 6-12 frames/s to recognition here: every frame went through
the event queue as a base64 data URL, and every annotated frame came back as a JPEG file the page
fetched and decoded, with the browser and Holistic sharing the same two cores. This path does less
per frame: the page (camera.js) grabs 640x480 frames with getUserMedia, sends each as JPEG bytes on
a socket with at most two in flight (so encoding and transfer overlap Holistic), and draws the
latest landmarks, pending text and confidence meter that came back over its own video (drawn at the
camera's rate, whatever recognition's). The server decodes only the frames it processes (a frame
replaced while Holistic was busy is answered as dropped, never decoded); while it rests (no hand
raised for a while) it answers at once, keeps the frame for a rise, and the page sends REST_FPS a
second. `asl-gpt bench app` measures it.

The socket is `/live/ws?key=TOKEN`; the token comes from the page's own Gradio session
(`LiveRegistry.token`), so a socket reaches only that session's buffer. The route is not behind
Gradio's login, so it checks for itself: a page of another origin is refused (4403: a browser sends
the user's cookies to any site's socket), and when the app has a login the socket needs its cookie
(4401). Text messages from the page are JSON: {"camera_error": "permission denied"} when the camera
cannot be opened.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from importlib import resources
from urllib.parse import urlsplit

import numpy as np

from asl_gpt.app.live import FrameReply
from asl_gpt.app.registry import LiveRegistry
from asl_gpt.config import RecognizerConfig
from asl_gpt.landmarks import layout

log = logging.getLogger(__name__)

PATH = "/live/ws"
MAX_FRAME_BYTES = 4 * 1024 * 1024  # a 640x480 JPEG is ~40-80 KB; anything near this is not a camera frame
MAX_IN_FLIGHT = 2  # frames the page sends before the first answer: the next one's encode and transfer overlap Holistic
JPEG_QUALITY = 0.8  # the page's JPEG quality (toBlob): plenty for landmarks at a fraction of the bytes
REST_FPS = 10.0  # frames/s the page sends while recognition rests (LiveOptions.rest_*): kept for a rise, cheap to encode
# Pose points sent for drawing: the upper body (shoulders, elbows, wrists, hands) and the hips.
POSE_POINTS = tuple(range(11, 25))


def _points(lm: np.ndarray, part: slice, index: tuple[int, ...] | None = None) -> list | None:
    p = lm[part, :2]
    if index is not None:
        p = p[list(index)]
    if not np.isfinite(p).any():
        return None
    return [[round(float(x), 4), round(float(y), 4)] if math.isfinite(x) and math.isfinite(y) else None
            for x, y in p]


def frame_message(r: FrameReply) -> dict:
    """The JSON answer to one frame: what the page draws over it (coordinates normalised 0..1)."""
    s = r.state
    msg = {"dropped": r.dropped, "resting": r.resting or s.resting, "text": s.text, "confidence": round(s.confidence, 3),
           "threshold": round(s.threshold, 3), "low": s.low_confidence, "hands": s.hands_visible,
           "said": list(s.said), "fps": round(s.processed_fps, 1), "received_fps": round(s.received_fps, 1)}
    if r.error:
        msg["error"] = r.error
    if r.landmarks is not None:
        lm = r.landmarks
        msg["left_hand"] = _points(lm, layout.LEFT_HAND)
        msg["right_hand"] = _points(lm, layout.RIGHT_HAND)
        msg["pose"] = _points(lm, layout.POSE, POSE_POINTS)
        msg["pose_index"] = list(POSE_POINTS)
    return msg


def control(live, text: str) -> None:
    """A text message from the page (camera state); anything else is ignored."""
    try:
        msg = json.loads(text)
    except ValueError:
        return
    if isinstance(msg, dict) and isinstance(msg.get("camera_error"), str):
        live.camera_event(on=False, error=msg["camera_error"])


def refusal(ws) -> tuple[int, str] | None:
    """Why this socket may not be served (close code, reason), or None: another origin, or no login."""
    origin = ws.headers.get("origin")
    if origin is not None:  # browsers always send it; a client without one cannot carry a user's cookies
        hosts = {h.strip().lower() for h in (ws.headers.get("host", ""), ws.headers.get("x-forwarded-host", "")) if h}
        if urlsplit(origin).netloc.lower() not in hosts:
            return 4403, "another origin: open the camera from the app's own page"
    app = ws.scope.get("app")
    if getattr(app, "auth", None):  # Gradio's login (launch(auth=...)): its cookie names a logged-in user
        cid = getattr(app, "cookie_id", "")
        cookie = ws.cookies.get(f"access-token-{cid}") or ws.cookies.get(f"access-token-unsecure-{cid}")
        if not cookie or getattr(app, "tokens", {}).get(cookie) is None:
            return 4401, "not logged in: reload the page and log in"
    return None


def websocket_route(registry: LiveRegistry):
    """The Starlette route for the camera socket (served by the same FastAPI app as the Gradio UI)."""
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def endpoint(ws: WebSocket) -> None:
        refused = refusal(ws)
        live = None if refused else registry.by_token(ws.query_params.get("key", ""))
        await ws.accept()  # then closed with a code and a reason the page shows
        if refused:
            log.warning("camera socket refused: %s", refused[1])
            await ws.close(code=refused[0], reason=refused[1])
            return
        if live is None:
            await ws.close(code=4404, reason="unknown session: reload the page")
            return
        loop = asyncio.get_running_loop()
        replies: asyncio.Queue = asyncio.Queue()

        def reply(r: FrameReply) -> None:  # called on the session's worker thread
            try:
                loop.call_soon_threadsafe(replies.put_nowait, r)
            except RuntimeError:  # the loop is gone: the server is stopping
                pass

        async def send_replies() -> None:
            while True:
                r = await replies.get()
                await ws.send_text(json.dumps(frame_message(r), separators=(",", ":")))

        sender = asyncio.create_task(send_replies())
        live.camera_event(on=True, error="")
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                if live.closed:  # the page's session ended (its tab was unloaded)
                    await ws.close(code=4410, reason="the session ended: reload the page")
                    break
                if msg.get("bytes") is not None:
                    data = msg["bytes"]
                    if len(data) > MAX_FRAME_BYTES:
                        reply(FrameReply(live.last_state, error=f"frame too large ({len(data)} bytes)"))
                    else:
                        live.submit(data, reply)
                elif msg.get("text"):
                    control(live, msg["text"])
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            live.camera_event(on=False)

    return WebSocketRoute(PATH, endpoint)


def script(max_side: int = RecognizerConfig.max_side) -> str:
    """camera.js for the page's <head>, after the skeleton edges and colours it shares with overlay.py, the
    size the browser shrinks frames to (the server's `recognizer.max_side`: it would shrink them anyway), and
    its JPEG quality and frames in flight (which `asl-gpt bench load` sends as the page does)."""
    from asl_gpt.recognition import overlay

    draw = {"HAND": overlay.HAND_EDGES, "POSE": overlay.POSE_EDGES, "GREEN": overlay.GREEN,
            "ORANGE": overlay.ORANGE, "GREY": overlay.GREY, "RED": overlay.RED, "MAX_SIDE": int(max_side),
            "MAX_IN_FLIGHT": MAX_IN_FLIGHT, "QUALITY": JPEG_QUALITY, "REST_FPS": REST_FPS}
    js = resources.files("asl_gpt.app").joinpath("camera.js").read_text(encoding="utf-8")
    return f"const ASL_GPT_DRAW = {json.dumps(draw)};\n{js}"


def widget_html() -> str:
    """The camera panel's markup; camera.js drives it."""
    return """
<div id="cam" class="cam">
  <div class="cam-view">
    <canvas id="cam-canvas" width="640" height="480" role="img"
            aria-label="Your camera, mirrored, with the hands and body the recogniser found drawn over it"></canvas>
  </div>
  <div class="cam-bar">
    <button id="cam-start" class="lg primary cam-btn" type="button">Start camera</button>
    <button id="cam-stop" class="lg secondary cam-btn" type="button" disabled>Stop camera</button>
    <span id="cam-msg" role="status" aria-live="polite">Camera off. Press Start camera (Alt+V).</span>
  </div>
</div>
"""
