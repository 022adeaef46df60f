"""N browser sessions at once on one app: camera frames reaching recognition, answers, memory, page load.

Starts the app (`asl-gpt serve`) in its own process on 127.0.0.1, so the server's memory is its
own and the clients do not share its interpreter. Each simulated session does what a page does,
over the same endpoints: the page's load event (Gradio's queue API, with its own session hash)
gives it its camera-socket token; a camera client streams a real video's frames as 640x480 JPEGs
over that socket at 30 frames/s with at most two unanswered (camera.js's protocol: a camera shows
the video at its own pace, so frames are skipped, never queued, when answers come slower); and it
asks three typed questions one after another (the Ask button's event), timing the first token and
the whole answer. Before the questions each session types a marker into its pending box and sends
it (as a signed turn would be, the page shows it over the video): every session must see its own
marker in the frame answers of its own socket and never another's (no cross-talk). Meanwhile the
page itself is fetched every few seconds (an HTTP GET of the page, timed). The server's memory
(resident set, with its child processes: the embedded LLM runs in one) is sampled throughout; its
peak per N is printed. A session ends by closing its heartbeat stream, as a closed tab does: the
app must drop it (checked: its camera token is refused after), so the next N starts clean.
Each N streams for at least --min-seconds and stops at --max-seconds: questions still unanswered
then are cancelled (as a closed tab's are) and counted as asked, not answered; their first token
counts if it came. Browser-side work (encoding JPEGs, drawing) is not simulated: a laptop's
browser would add it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from asl_gpt.benchmarks.procs import free_port

QUESTIONS = ("what is fingerspelling", "how fast do signers fingerspell", "what is the asl alphabet")
CAMERA_FPS = 30.0
PAGE_EVERY_S = 3.0  # the page is fetched this often during a run
ANSWER_TIMEOUT_S = 600.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8], help="simultaneous sessions (default: 1 4 8)")
    p.add_argument("--video", help="video streamed by every camera (default: FOOTBALL.mp4 of the signing videos)")
    p.add_argument("--min-seconds", type=float, default=20.0,
                   help="stream at least this long per N, after a 3 s warm-up (the questions may take longer)")
    p.add_argument("--max-seconds", type=float, default=240.0,
                   help="stop each N after this long: questions unanswered then are counted as such and cancelled")
    p.add_argument("--questions", type=int, default=len(QUESTIONS), help="typed questions per session (0: none)")
    p.add_argument("--state-dir", help="state dir for the index and LLM cache (default: settings)")


# -- pure parts (tested) ---------------------------------------------------------------------------
def camera_frame(elapsed_s: float, n_frames: int, fps: float = CAMERA_FPS) -> int:
    """The video frame a camera playing the video in a loop shows `elapsed_s` after it started."""
    return int(elapsed_s * fps) % n_frames if n_frames else 0


def sse_events(lines: Iterable[str]) -> Iterator[dict]:
    """The JSON messages of a server-sent-events stream (`data: {...}` lines; others skipped)."""
    for line in lines:
        if line.startswith("data:"):
            body = line[5:].strip()
            if body.startswith("{"):
                try:
                    yield json.loads(body)
                except ValueError:
                    continue


def crosstalk(seen: dict[str, set[str]], markers: dict[str, str]) -> list[str]:
    """Problems with per-session text: a session that saw another's marker, or never saw its own.

    `seen`: session -> texts its frame answers carried; `markers`: session -> its own marker."""
    problems = []
    for s, texts in seen.items():
        for other, m in markers.items():
            if other != s and any(m in t for t in texts):
                problems.append(f"{s} saw {other}'s text {m!r}")
        if s in markers and not any(markers[s] in t for t in texts):
            problems.append(f"{s} never saw its own text {markers[s]!r}")
    return problems


@dataclass
class CameraStats:
    """One camera client's counts; `processed_at` are the arrival times of answers with landmarks."""

    sent: int = 0
    processed_at: list[float] = field(default_factory=list)
    dropped: int = 0
    errors: list[str] = field(default_factory=list)
    texts: set[str] = field(default_factory=set)

    def answer(self, msg: dict, now: float) -> None:
        """Record one frame answer (camera.frame_message)."""
        if msg.get("error"):
            self.errors.append(str(msg["error"]))
        elif msg.get("dropped"):
            self.dropped += 1
        else:
            self.processed_at.append(now)
        for t in [msg.get("text") or "", *(msg.get("said") or [])]:
            if t:
                self.texts.add(t)

    def fps(self, t0: float, t1: float) -> float:
        """Frames that reached recognition per second between t0 and t1."""
        return sum(t0 <= t < t1 for t in self.processed_at) / (t1 - t0) if t1 > t0 else 0.0


@dataclass(frozen=True)
class AnswerTiming:
    first_token_s: float | None  # None: no token arrived
    total_s: float
    status: str  # the chat status line at the end
    ok: bool  # answered (or "not in the knowledge base", which is an answer)


def answer_timing(messages: Iterable[tuple[float, dict]], t0: float) -> AnswerTiming:
    """Times of one streamed answer from (arrival time, queue message) pairs: the first token is the first
    update after which the chat status says "answering"; the status is the last one the answer set."""
    first, status, end, success = None, "", None, False
    for t, m in messages:
        if m.get("msg") not in ("process_generating", "process_completed"):
            continue
        text = json.dumps(m.get("output") or {}, ensure_ascii=False)
        if first is None and "answering" in text:
            first = t - t0
        for s in ("answered in", "not in the knowledge base", "LLM error", "⚠"):
            if s in text:
                status = s
        if m.get("msg") == "process_completed":
            end, success = t, bool(m.get("success", True))
            break
    total = (end if end is not None else t0) - t0
    ok = success and status in ("answered in", "not in the knowledge base")
    return AnswerTiming(first, total, status or ("no answer" if end is None else "unknown"), ok)


def summary(values: list[float]) -> str:
    """'median (max)' of some seconds, or '-'."""
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({max(values):.2f})"


@dataclass
class Row:
    n: int
    fps_per_session: list[float]
    first_token_s: list[float]
    total_s: list[float]
    asked: int  # questions asked (the rest were not reached within --max-seconds)
    errors: int
    crosstalk: list[str]
    page_s: list[float]
    peak_rss_mib: float
    seconds: float


def table(rows: list[Row]) -> str:
    head = ("| sessions | recognised frames/s per session, median (min) | first token s, median (max) | "
            "whole answer s, median (max) | answered / asked | errors | cross-talk | page GET s, median (max) | "
            "server memory, peak | seconds |")
    out = [head, "|" + "---|" * 10]
    for r in rows:
        fps = f"{statistics.median(r.fps_per_session):.1f} ({min(r.fps_per_session):.1f})" if r.fps_per_session else "-"
        talk = "none" if not r.crosstalk else len(r.crosstalk)
        out.append(f"| {r.n} | {fps} | {summary(r.first_token_s)} | {summary(r.total_s)} | "
                   f"{len(r.total_s)} / {r.asked} | {r.errors} | {talk} | {summary(r.page_s)} | "
                   f"{r.peak_rss_mib:.0f} MiB | {r.seconds:.0f} |")
    return "\n".join(out)


# -- the clients -----------------------------------------------------------------------------------
class Gradio:
    """Calls the app's events as its page does (POST queue/join, then the session's event stream)."""

    def __init__(self, base: str):
        import httpx

        self.base = base
        self.http = httpx.Client(timeout=httpx.Timeout(30.0, read=ANSWER_TIMEOUT_S))
        config = self.http.get(f"{base}/config").json()
        self.fn = {d.get("api_name"): d["id"] for d in config["dependencies"]}
        self.api = config.get("api_prefix", "/gradio_api")
        self.current: tuple[str, int, str] | None = None  # (event id, fn index, session) of the call in progress

    def call(self, name: str, data: list, session: str) -> list[tuple[float, dict]]:
        """Run one event to its end; returns its (arrival time, message) pairs."""
        r = self.http.post(f"{self.base}{self.api}/queue/join",
                           json={"data": data, "fn_index": self.fn[name], "session_hash": session,
                                 "trigger_id": None, "event_data": None})
        r.raise_for_status()
        event = r.json()["event_id"]
        self.current = (event, self.fn[name], session)
        out = []
        with self.http.stream("GET", f"{self.base}{self.api}/queue/data", params={"session_hash": session}) as s:
            for m in sse_events(s.iter_lines()):
                out.append((time.perf_counter(), m))
                if m.get("event_id") == event and m.get("msg") == "process_completed" or m.get("msg") == "close_stream":
                    break
        self.current = None
        return out

    def cancel(self) -> None:
        """Cancel the call in progress (what the page does when its tab closes mid-answer)."""
        import httpx

        if (cur := self.current) is not None:
            httpx.post(f"{self.base}{self.api}/cancel",
                       json={"event_id": cur[0], "fn_index": cur[1], "session_hash": cur[2]}, timeout=180)

    def result(self, name: str, data: list, session: str) -> list:
        for _, m in reversed(self.call(name, data, session)):
            if m.get("msg") == "process_completed":
                if not m.get("success", True):
                    raise RuntimeError(f"{name} failed: {(m.get('output') or {}).get('error')}")
                return (m.get("output") or {}).get("data") or []
        raise RuntimeError(f"{name}: no result")


class Session(threading.Thread):
    """One simulated browser tab."""

    def __init__(self, name: str, base: str, jpegs: list[bytes], questions: int, stop: threading.Event):
        super().__init__(name=name, daemon=True)
        self.key = secrets.token_hex(8)  # Gradio's session hash
        self.base, self.jpegs, self.questions, self.stop = base, jpegs, questions, stop
        self.marker = f"{name} check {secrets.token_hex(2)}"
        self.camera = CameraStats()
        self.answers: list[AnswerTiming] = []
        self.asked = 0
        self.errors: list[str] = []
        self.app: Gradio | None = None
        self.token = ""  # its camera socket's
        self.ready = threading.Event()  # the camera streams
        self.done = threading.Event()  # all questions answered (or failed)
        self._heartbeat = None

    def run(self) -> None:
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - counted and printed, the run goes on
            self.errors.append(f"{type(e).__name__}: {str(e)[:160]}")
        finally:
            self.ready.set()
            self.done.set()

    def _run(self) -> None:
        import httpx

        app = self.app = Gradio(self.base)
        # Keeps the session alive; closing it is what a closed tab does (the app drops the session).
        self._heartbeat = httpx.Client(timeout=None).stream("GET", f"{self.base}{app.api}/heartbeat/{self.key}")
        self._heartbeat.__enter__()
        token = self.token = app.result("on_load", [], self.key)[2]
        cam = threading.Thread(target=self._stream, args=(token,), name=f"{self.name}-camera", daemon=True)
        cam.start()
        self.ready.wait(30)
        app.result("on_edit", [self.marker], self.key)  # typed into the pending box, then sent
        if app.result("on_send", [self.marker], self.key)[0] != "":  # the box empties when its text is sent
            self.errors.append("the pending box's text was not sent")
        time.sleep(3.0)  # the camera warms up before the questions
        for i in range(self.questions):
            if self.stop.is_set():
                break
            q = QUESTIONS[i % len(QUESTIONS)]
            self.asked += 1
            t0 = time.perf_counter()
            timing = answer_timing(app.call("on_typed_1", [q, [], None], self.key), t0)
            self.answers.append(timing)
            if self.stop.is_set() and not timing.ok:
                break  # cut at --max-seconds: unanswered (its first token may have come), not an error
            if not timing.ok:
                self.errors.append(f"question {q!r}: {timing.status}")
        self.done.set()
        self.stop.wait()  # the camera streams until every session of this N is done
        cam.join(10)

    def _stream(self, token: str) -> None:
        from websockets.sync.client import connect

        from asl_gpt.app.camera import MAX_IN_FLIGHT  # as the page sends them

        url = self.base.replace("http://", "ws://") + f"/live/ws?key={token}"
        try:
            with connect(url, max_size=None, compression=None, open_timeout=30) as ws:
                self.ready.set()
                t0 = next_t = time.perf_counter()
                in_flight = 0
                while not self.stop.is_set():
                    now = time.perf_counter()
                    if in_flight < MAX_IN_FLIGHT and now >= next_t:
                        ws.send(self.jpegs[camera_frame(now - t0, len(self.jpegs))])
                        self.camera.sent += 1
                        in_flight += 1
                        next_t = max(next_t + 1 / CAMERA_FPS, now - 1 / CAMERA_FPS)  # never a burst to catch up
                        continue
                    wait = max(0.0, next_t - now) if in_flight < MAX_IN_FLIGHT else 0.5
                    try:
                        msg = ws.recv(timeout=wait)
                    except TimeoutError:
                        continue
                    in_flight -= 1
                    self.camera.answer(json.loads(msg), time.perf_counter())
        except Exception as e:  # noqa: BLE001
            self.camera.errors.append(f"camera socket: {type(e).__name__}: {str(e)[:160]}")

    def cancel(self) -> None:
        try:
            self.app.cancel()
        except Exception as e:  # noqa: BLE001
            print(f"  {self.name}: cancel failed: {e}")

    def close(self) -> None:
        if self._heartbeat is not None:
            try:
                self._heartbeat.__exit__(None, None, None)
            except Exception:  # noqa: BLE001
                pass
        if self.app is not None:
            self.app.http.close()


# -- the run ---------------------------------------------------------------------------------------
def _rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (the embedded LLM runs in a child process)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(x.split()[1]) for x in f if x.startswith("VmRSS:")), 0) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def _get_s(url: str) -> float:
    import urllib.request

    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
    return time.perf_counter() - t


def _session_alive(base: str, token: str) -> bool:
    """Whether the app still holds the session of this camera token (a dropped one's socket is refused)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(base.replace("http://", "ws://") + f"/live/ws?key={token}", open_timeout=30) as ws:
        try:
            ws.recv(timeout=2.0)
        except ConnectionClosed as e:
            return e.rcvd is None or e.rcvd.code != 4404
        except TimeoutError:
            return True
    return True


def _jpegs(video: Path) -> list[bytes]:
    import cv2

    from asl_gpt.app.camera import JPEG_QUALITY  # as the page sends them

    from asl_gpt.benchmarks.browser import _fit
    from asl_gpt.landmarks.video import read_video

    out = []
    for f in read_video(video):
        bgr = cv2.cvtColor(_fit(f.rgb, 640, 480), cv2.COLOR_RGB2BGR)
        out.append(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, round(JPEG_QUALITY * 100)])[1].tobytes())
    return out


def _wait_ready(base: str, proc: subprocess.Popen, timeout_s: float = 900.0) -> str:
    """Wait for the page, then for the index and the LLM (the app warms up in the background)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited ({proc.returncode})")
        try:
            _get_s(base + "/")
            break
        except OSError:
            time.sleep(0.5)
    app, key, status = Gradio(base), secrets.token_hex(8), ""
    while time.monotonic() < deadline:
        status = str(app.result("on_status", [], key)[0])
        llm = next((x for x in status.splitlines() if x.startswith("LLM:")), "")
        if "Index: ⚠" not in status and "✓" in llm and "not started" not in llm:  # the LLM runs
            return status
        time.sleep(2.0)
    raise RuntimeError(f"the app did not warm up: {status}")


def _phase(base: str, pid: int, n: int, jpegs: list[bytes], args) -> Row:
    stop = threading.Event()
    sessions = [Session(f"session-{i + 1}", base, jpegs, args.questions, stop) for i in range(n)]
    peak, pages = [0.0], []

    def monitor():
        last_page = 0.0
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_mib(pid))
            if time.monotonic() - last_page >= PAGE_EVERY_S:
                last_page = time.monotonic()
                try:
                    pages.append(_get_s(base + "/"))
                except OSError as e:
                    pages.append(float("inf"))
                    print(f"  page GET failed: {e}")
            time.sleep(0.25)

    mon = threading.Thread(target=monitor, name="monitor", daemon=True)
    mon.start()
    for s in sessions:
        s.start()
    for s in sessions:
        s.ready.wait(60)
    t0 = time.perf_counter() + 3.0  # the warm-up before the questions is not measured
    deadline = t0 + args.max_seconds
    while time.perf_counter() < deadline and not all(s.done.is_set() for s in sessions):
        time.sleep(0.2)
    while time.perf_counter() < t0 + args.min_seconds:
        time.sleep(0.2)
    t1 = time.perf_counter()
    stop.set()
    for s in sessions:  # answers still streaming are cancelled, as when their tabs close (it takes effect
        if s.app is not None:  # at the answer's next token, so it is not waited for here)
            threading.Thread(target=s.cancel, name=f"{s.name}-cancel", daemon=True).start()
    for s in sessions:
        s.join(180)
        if s.is_alive():
            print(f"  {s.name}: still waiting for its answer to end")
        s.close()
    mon.join(5)
    errors = sum(len(s.errors) + len(s.camera.errors) for s in sessions)
    for s in sessions:
        for e in s.errors + s.camera.errors[:3]:
            print(f"  {s.name}: {e}")
    time.sleep(2.0)
    alive = [s.name for s in sessions if s.token and _session_alive(base, s.token)]
    if alive:
        print(f"  still open after their tabs closed: {', '.join(alive)}")
        errors += len(alive)
    problems = crosstalk({s.name: s.camera.texts for s in sessions}, {s.name: s.marker for s in sessions})
    for p in problems:
        print(f"  cross-talk: {p}")
    answers = [a for s in sessions for a in s.answers]
    return Row(n, [s.camera.fps(t0, t1) for s in sessions],
               [a.first_token_s for a in answers if a.first_token_s is not None], [a.total_s for a in answers if a.ok],
               sum(s.asked for s in sessions), errors, problems, pages, peak[0], t1 - t0)


def run(args, settings) -> int:
    from asl_gpt.app.camera import JPEG_QUALITY, MAX_IN_FLIGHT
    from asl_gpt.benchmarks import machine_description

    video = Path(args.video) if args.video else settings.paths.data_dir / "signing-video" / "FOOTBALL.mp4"
    state = Path(args.state_dir) if args.state_dir else settings.paths.state_dir
    jpegs = _jpegs(video)
    print(f"machine: {machine_description()}")
    print(f"video: {video.name}, {len(jpegs)} frames as 640x480 JPEG (quality {round(JPEG_QUALITY * 100)}), "
          f"{statistics.mean(map(len, jpegs)) / 1024:.0f} KiB each, sent at {CAMERA_FPS:.0f} frames/s, "
          f"at most {MAX_IN_FLIGHT} unanswered")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ASL_GPT_PATHS_STATE_DIR": str(state)}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "asl_gpt.cli", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    rows = []
    try:
        t = time.perf_counter()
        status = _wait_ready(base, proc)
        lines = [x.strip() for x in status.splitlines() if x.startswith(("Index:", "LLM:", "Model:"))]
        print(f"app up and warmed in {time.perf_counter() - t:.0f} s ({'; '.join(lines)}); "
              f"idle server memory {_rss_mib(proc.pid):.0f} MiB")
        warm = Session("warm-up", base, jpegs, 1, threading.Event())
        warm.start()  # one question first: the LLM's first prompt is not any N's
        warm.done.wait(ANSWER_TIMEOUT_S)
        warm.stop.set()
        warm.join(30)
        warm.close()
        for e in warm.errors + warm.camera.errors[:3]:
            print(f"  warm-up: {e}")
        if warm.answers:
            a = warm.answers[0]
            print(f"warm-up question (1 session, camera on): first token {a.first_token_s or float('nan'):.2f} s, "
                  f"whole answer {a.total_s:.1f} s ({a.status})")
        time.sleep(3.0)
        print(f"server memory after it, its session closed: {_rss_mib(proc.pid):.0f} MiB")
        for n in args.sessions:
            print(f"{n} session(s)…", flush=True)
            rows.append(_phase(base, proc.pid, n, jpegs, args))
            time.sleep(3.0)  # the dropped sessions' workers stop
        print(f"load average at the end: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
        print(table(rows))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.returncode not in (0, -15, None) and not rows:
            log.seek(0)
            print(log.read().decode("utf-8", "replace")[-3000:])
        log.close()
    return 0 if rows and all(r.errors == 0 and not r.crosstalk for r in rows) else 1
