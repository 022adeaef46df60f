"""Browser-to-recognition frame rate and Send-to-first-token time of the real app in headless Chromium.

Starts the app on 127.0.0.1 (the configured state dir, or --state-dir) and waits for the warm-up it
does in the background when it starts (model, index, assistant, LLM), opens the system chromium
with a fake camera playing a signing video (as Y4M, 640x480), presses Start camera, streams for
--seconds and counts the frames that reach the server, the frames that reach recognition (Holistic
+ model + buffer) and the frames the page drew back with their landmarks. The ceiling is Holistic
alone on the same frames (as the runtime runs it), measured right after in this process. Then it
types questions into the pending box, presses Send, and times the first answer token in the page.
Browser, server and Holistic share this machine's cores, as they would on a laptop; the load
average is printed: other work on the machine changes every figure here.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from asl_gpt.benchmarks.procs import free_port

QUESTIONS = ("what is fingerspelling", "how fast do signers fingerspell")
# (video frames the page showed, answers it drew over them): camera.js keeps both on its canvas
DRAWN = ("() => { const d = document.querySelector('#cam-canvas').dataset; "
         "return [+(d.video || 0), +(d.frames || 0)]; }")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--video", help="video for the fake camera (default: FOOTBALL.mp4 of the signing videos)")
    p.add_argument("--seconds", type=float, default=20.0, help="streaming time measured (after a 5 s warm-up)")
    p.add_argument("--questions", type=int, default=2, help="questions sent through the buffer (0: skip)")
    p.add_argument("--state-dir", help="state dir for the index and LLM cache (default: settings)")


def _holistic_ceiling(services, frames, seconds: float = 8.0) -> float:
    ex = services.new_extractor()
    try:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            ex(frames[n % len(frames)])
            n += 1
        return n / (time.perf_counter() - t0)
    finally:
        ex.close()


def run(args, settings) -> int:
    import dataclasses

    from asl_gpt.app import build_demo, launch
    from asl_gpt.benchmarks import machine_description
    from asl_gpt.benchmarks.browser import _fit, browser, chromium_path, write_y4m
    from asl_gpt.landmarks.video import read_video
    from asl_gpt.app.services import build_services

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if chromium_path() is None:
        print("no chromium: install the Debian package `chromium` (scripts/setup.sh does)")
        return 2
    video = Path(args.video) if args.video else settings.paths.data_dir / "signing-video" / "FOOTBALL.mp4"
    if args.state_dir:
        settings = dataclasses.replace(settings, paths=dataclasses.replace(settings.paths, state_dir=Path(args.state_dir)))
    tmp = Path(tempfile.mkdtemp(prefix="asl-gpt-bench-"))
    y4m = write_y4m(video, tmp / "camera.y4m")
    frames = [_fit(f.rgb, 640, 480) for f in read_video(video)]

    print(f"machine: {machine_description()}")
    services = build_services(settings)
    app = build_demo(services)
    port = free_port()
    launch(app, port=port, prevent_thread_lock=True, quiet=True)
    try:
        t = time.perf_counter()
        app.warming.join()  # what the app does in the background when it starts
        print(f"app warmed up (model, index, assistant, LLM started) in {time.perf_counter() - t:.1f} s; "
              f"LLM: {app.probe.llm().message}")
        with browser(y4m) as b:
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}", wait_until="load")
            page.locator("#cam-start").click()
            page.wait_for_timeout(5000)
            live = max(app.registry.sessions(), key=lambda s: s.state().frames_received)
            s0, d0, t0, load0 = live.state(), page.evaluate(DRAWN), time.perf_counter(), os.getloadavg()[0]
            page.wait_for_timeout(args.seconds * 1000)
            s1, d1, dt, load1 = live.state(), page.evaluate(DRAWN), time.perf_counter() - t0, os.getloadavg()[0]
            page.locator("#cam-stop").click()
            rx = (s1.frames_received - s0.frames_received) / dt
            px = (s1.frames_processed - s0.frames_processed) / dt
            hands = (s1.frames_with_hands - s0.frames_with_hands) / max(1, s1.frames_processed - s0.frames_processed)
            print(f"video: {video.name} as a 640x480 fake camera (30 frames/s); {dt:.0f} s measured")
            print(f"browser -> server:       {rx:5.1f} frames/s")
            print(f"browser -> recognition:  {px:5.1f} frames/s  (hands in {hands:.0%} of them)")
            print(f"video shown in the page: {(d1[0] - d0[0]) / dt:5.1f} frames/s  (its own <video>)")
            print(f"answers drawn over it:   {(d1[1] - d0[1]) / dt:5.1f} frames/s")
            print(f"load average during the stream: {load0:.2f} -> {load1:.2f} ({os.cpu_count()} cores)")
            page.wait_for_timeout(1500)  # let the worker go idle
            print(f"Holistic alone, same frames, this process: {_holistic_ceiling(services, frames):5.1f} frames/s "
                  f"(the ceiling for recognition; load {os.getloadavg()[0]:.2f})")
            _send_questions(page, app, live, args.questions)
    finally:
        app.close()
        services.close()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    return 0


def _send_questions(page, app, live, n: int) -> None:
    """Time Send -> first token; the last of two or more questions is asked with the camera running, to
    show what an answer costs the video (and the video the answer) on shared cores."""
    if n <= 0:
        return
    deadline = time.monotonic() + 300
    while not app.probe.index().ok and time.monotonic() < deadline:
        time.sleep(1.0)  # a first run indexes the knowledge folder
    if not app.probe.index().ok:
        print(f"send -> first token: skipped ({app.probe.index().message})")
        return
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(n)]
    for i, q in enumerate(questions):
        streaming = n >= 2 and i == n - 1
        if streaming:
            page.locator("#cam-start").click()
            page.wait_for_timeout(3000)
            s0, d0 = live.state(), page.evaluate(DRAWN)
        box = page.locator("#pending textarea")
        box.fill(q)
        box.dispatch_event("input")
        page.wait_for_timeout(300)
        before = page.locator("#chat [data-testid='bot']").count()
        t0 = time.perf_counter()
        page.locator("#send-btn").click()
        first = None
        while time.perf_counter() - t0 < 300:
            bots = page.locator("#chat [data-testid='bot']")
            if first is None and bots.count() > before and bots.nth(before).inner_text().strip():
                first = time.perf_counter() - t0
            status = page.locator("#chat-status").inner_text()
            if bots.count() > before and status.startswith(("answered", "not in", "LLM error", "⚠")):
                break
            page.wait_for_timeout(50)
        total = time.perf_counter() - t0
        label = "first question" if i == 0 else ("camera running" if streaming else "next question")
        first_s = f"{first:5.2f} s" if first is not None else "  none"
        print(f"send -> first token in the page: {first_s}, whole answer {total:5.1f} s  ({label}; {q!r}; {status})")
        if streaming:
            s1, d1 = live.state(), page.evaluate(DRAWN)
            page.locator("#cam-stop").click()
            print(f"while that answer was generated: video shown in the page {(d1[0] - d0[0]) / total:5.1f} frames/s, "
                  f"recognition {(s1.frames_processed - s0.frames_processed) / total:5.1f} frames/s of "
                  f"{(s1.frames_received - s0.frames_received) / total:4.1f} received "
                  f"(resting at the end: {'yes' if s1.resting else 'no'}; hands in "
                  f"{(s1.frames_with_hands - s0.frames_with_hands) / max(1, s1.frames_processed - s0.frames_processed):.0%})")
