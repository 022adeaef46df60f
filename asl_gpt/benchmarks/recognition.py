"""Frames per second of landmark extraction alone and of the whole recognize loop, on the sample videos.

The whole loop is video decoding (its own thread) -> Holistic -> streaming recognition (its own
thread) -> buffer; it can at best match extraction alone, which is the figure to compare with.
Videos are upscaled/downscaled to 640x480 first so the figure is for the live camera's size.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("videos", nargs="*", help="videos (default: the signing videos in the data folder)")
    p.add_argument("--model", help="model for the whole loop (default: settings)")
    p.add_argument("--repeat", type=int, default=2, help="passes over each video (the first warms up)")


def _frames_640x480(path: Path):
    import cv2

    from asl_gpt.landmarks.video import Frame, read_video

    out = []
    for f in read_video(path):
        out.append(Frame(f.t_ms, cv2.resize(f.rgb, (640, 480), interpolation=cv2.INTER_AREA)))
    return out


def run(args, settings) -> int:
    from asl_gpt.benchmarks import machine_description
    from asl_gpt.recognition.pipeline import buffer_options, build_runtime, stream_options
    from asl_gpt.landmarks.holistic import HolisticExtractor
    from asl_gpt.recognition.pipeline import RecognitionSession, drive

    videos = [Path(v) for v in args.videos] or sorted((settings.paths.data_dir / "signing-video").glob("*.mp4"))
    if not videos:
        print("no videos: pass paths or set ASL_GPT_PATHS_DATA_DIR")
        return 2
    rec, runtime_extractor = build_runtime(settings, args.model)
    face = runtime_extractor.face
    runtime_extractor.close()
    print(f"machine: {machine_description()}")
    print(f"model: {rec.path} (window {rec.contract.window}, {rec.contract.features.n_features} {rec.contract.feature_kind} features from {len(rec.contract.columns)} columns; "
          f"Holistic {'with' if face else 'without'} the face mesh, as the runtime runs it)")
    print(f"{'video':<14}{'frames':>7}{'+face fps':>11}{'extract fps':>13}{'loop fps':>10}{'ratio':>7}{'decodes':>9}")
    totals = [0, 0.0, 0.0, 0.0]
    for path in videos:
        frames = _frames_640x480(path)
        full_s = ext_s = loop_s = 0.0
        decodes = 0
        for i in range(args.repeat):
            times = []
            for with_face in (True, face):
                with HolisticExtractor(face=with_face) as ex:
                    t = time.perf_counter()
                    for f in frames:
                        ex(f.rgb)
                    times.append(time.perf_counter() - t)
            ft, dt = times
            with HolisticExtractor(face=face) as ex:
                session = RecognitionSession(rec, ex, stream_options(settings), buffer_options(settings, rec))
                calls = _count_calls(rec)
                lt = drive(session, frames, lambda f: session.process(f).events).seconds  # the app's own loop
            if i or args.repeat == 1:  # the first pass warms caches and the XNNPACK delegate
                full_s += ft
                ext_s += dt
                loop_s += lt
                decodes += calls()
        passes = max(1, args.repeat - 1)
        n = len(frames) * passes
        print(f"{path.stem:<14}{len(frames):>7}{n / full_s:>11.1f}{n / ext_s:>13.1f}{n / loop_s:>10.1f}"
              f"{ext_s / loop_s:>7.2f}{decodes // passes:>9}")
        totals[0] += n
        totals[1] += full_s
        totals[2] += ext_s
        totals[3] += loop_s
    n, fu, e, l = totals
    print(f"{'all':<14}{n:>7}{n / fu:>11.1f}{n / e:>13.1f}{n / l:>10.1f}{e / l:>7.2f}")
    print("+face = Holistic with its face mesh (what `asl-gpt landmarks` writes); extract = as the runtime runs it")
    print("ratio = loop fps / extraction fps (1.00: recognition fully overlapped with extraction)")
    return 0


def _count_calls(rec):
    """Count model decodes during one loop by wrapping the recognizer's method."""
    count = [0]
    original = rec.recognize

    def counted(*a, **k):
        count[0] += 1
        return original(*a, **k)

    rec.recognize = counted

    def done() -> int:
        rec.recognize = original
        return count[0]

    return done
