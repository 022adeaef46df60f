"""MediaPipe Holistic adapter: the only importer of mediapipe.

Uses the legacy `mp.solutions.holistic` (mediapipe 0.10.21 ships its models inside the wheel;
only model_complexity=1 works offline) in video mode, so tracking carries across frames. Returns
float32[543, 3] per frame in the competition's order with NaN for every part not detected.

`face=False` runs the same graph without its face-mesh branch (the face is then NaN): a model that
reads only hands and pose gets identical hands and pose for about a sixth less CPU a frame, which
is what the live paths use (`asl-gpt bench recognition` measures both).
"""

from __future__ import annotations

import logging
import os
import threading

import numpy as np

from asl_gpt.config import RecognizerConfig
from asl_gpt.landmarks import layout

log = logging.getLogger(__name__)

# MediaPipe's C++ side logs a warning per graph and per frame; keep the console readable.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Those two no longer reach the lines its graph writes (absl, not glog) while its models load, on the first
# frame: six "Feedback manager requires a model with a single signature inference" warnings per graph, and
# TensorFlow Lite's delegate and log notices. Nothing a user can act on: these are dropped (only these).
_LOAD_NOISE = (b"inference_feedback_manager.cc", b"All log messages before absl::InitializeLog()",
               b"Created TensorFlow Lite XNNPACK delegate")


class _QuietLoad:
    """While any graph loads, file descriptor 2 goes through a pipe that drops `_LOAD_NOISE` lines and passes
    every other line on (other threads' output is only delayed). Shared by concurrent loads (counted)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._saved: int | None = None  # the real stderr while filtering

    def __enter__(self):
        with self._lock:
            self._users += 1
            if self._users == 1:
                try:
                    self._start()
                except OSError as e:  # no pipe, no stderr: the noise is shown, nothing else changes
                    log.debug("stderr not filtered: %s", e)

    def __exit__(self, *exc):
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._saved is not None:
                _flush_stderr()
                os.dup2(self._saved, 2)  # the pipe's last writer closes (unless a child inherited it)
                os.close(self._saved)
                self._saved = None

    def _start(self) -> None:
        _flush_stderr()
        r, w = os.pipe()
        self._saved, out = os.dup(2), os.dup(2)
        os.dup2(w, 2)
        os.close(w)
        threading.Thread(target=_pass_on, args=(r, out), name="stderr-filter", daemon=True).start()


def _flush_stderr() -> None:
    import sys

    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass


def _pass_on(r: int, out: int) -> None:
    """Copy lines from `r` to `out` but the load noise, until every writer has closed the pipe."""
    rest = b""
    try:
        while chunk := os.read(r, 65536):
            *lines, rest = (rest + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not any(n in line for n in _LOAD_NOISE))
            if kept:
                os.write(out, kept)
        if rest and not any(n in rest for n in _LOAD_NOISE):
            os.write(out, rest)
    except OSError:
        pass
    finally:
        os.close(r)
        os.close(out)


_quiet_load = _QuietLoad()


class HolisticExtractor:
    """One tracking session (one video or camera stream). Not thread-safe; use one per stream."""

    def __init__(self, static_image_mode: bool = False, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, refine_face_landmarks: bool = False, face: bool = True):
        try:
            import mediapipe as mp
        except ImportError as e:  # pragma: no cover - mediapipe is a core dependency
            raise ImportError("mediapipe==0.10.21 is required for landmark extraction") from e
        self.face = face
        if face:
            self._holistic = mp.solutions.holistic.Holistic(
                static_image_mode=static_image_mode,
                model_complexity=1,  # 0 and 2 download a pose model at run time and fail offline
                smooth_landmarks=True,
                refine_face_landmarks=refine_face_landmarks,  # 478 points when True; we keep the 468
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        else:
            self._holistic = _holistic_without_face(static_image_mode, min_detection_confidence,
                                                    min_tracking_confidence)
        self._loaded = False  # the graph loads its models on the first frame

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """uint8[H, W, 3] RGB -> float32[543, 3] (NaN where a part is missing)."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected uint8[H, W, 3] RGB, got {rgb.dtype}{list(rgb.shape)}")
        if self._loaded:
            res = self._holistic.process(np.ascontiguousarray(rgb))
        else:
            with _quiet_load:
                res = self._holistic.process(np.ascontiguousarray(rgb))
            self._loaded = True
        out = layout.empty_frames(1)[0]
        for part, lms in (("face", getattr(res, "face_landmarks", None)), ("left_hand", res.left_hand_landmarks),
                          ("pose", res.pose_landmarks), ("right_hand", res.right_hand_landmarks)):
            if lms is None:
                continue
            n = dict(layout.PARTS)[part]
            pts = np.array([(p.x, p.y, p.z) for p in lms.landmark[:n]], dtype=np.float32)
            start = layout.OFFSETS[part]
            out[start:start + len(pts)] = pts
        return out

    def close(self) -> None:
        self._holistic.close()

    def __enter__(self) -> "HolisticExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _holistic_without_face(static_image_mode: bool, min_detection_confidence: float,
                           min_tracking_confidence: float):
    """The wheel's Holistic graph with its face branch (pose -> face ROI -> face mesh) removed.

    Same side inputs and thresholds as `mp.solutions.holistic.Holistic`; the graph file is parsed
    and edited, not copied, so it follows the installed mediapipe."""
    import mediapipe as mp
    from mediapipe.framework import calculator_pb2
    from mediapipe.python.solution_base import SolutionBase

    path = os.path.join(os.path.dirname(mp.__file__), "modules", "holistic_landmark", "holistic_landmark_cpu.binarypb")
    graph = calculator_pb2.CalculatorGraphConfig()
    with open(path, "rb") as f:
        graph.ParseFromString(f.read())
    face_nodes = [n for n in graph.node if n.calculator == "FaceLandmarksFromPoseCpu"]
    if len(face_nodes) != 1:
        raise RuntimeError(f"unexpected Holistic graph in {path}: no single face branch to remove")
    # Also drop the node that only feeds it (it splits the pose's face points off).
    fed = {s.split(":")[-1] for s in face_nodes[0].input_stream} - {"image"}
    keep = [n for n in graph.node if n not in face_nodes and not (set(n.output_stream) & fed)]
    del graph.node[:]
    graph.node.extend(keep)
    outputs = [s for s in graph.output_stream if not s.startswith("FACE_LANDMARKS:")]
    del graph.output_stream[:]
    graph.output_stream.extend(outputs)
    sides = [s for s in graph.input_side_packet if not s.startswith("REFINE_FACE_LANDMARKS:")]
    del graph.input_side_packet[:]
    graph.input_side_packet.extend(sides)
    video = not static_image_mode
    return SolutionBase(
        graph_config=graph,
        side_inputs={"model_complexity": 1, "smooth_landmarks": video, "enable_segmentation": False,
                     "smooth_segmentation": video, "use_prev_landmarks": video},
        calculator_params={  # the same two thresholds Holistic's constructor sets
            "poselandmarkcpu__posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh":
                min_detection_confidence,
            "poselandmarkcpu__poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__"
            "ThresholdingCalculator.threshold": min_tracking_confidence,
        },
        outputs=["pose_landmarks", "left_hand_landmarks", "right_hand_landmarks"])


def needs_face(columns) -> bool:
    """Whether a model reading these competition columns needs the face mesh."""
    return any("_face_" in c for c in columns)


def extract_video(path, max_side: int | None = RecognizerConfig.max_side,
                  progress: bool = False, extractor=None) -> tuple[np.ndarray, np.ndarray]:
    """All frames of a video -> (float32[T, 543, 3], t_ms float64[T]); T may be 0. InputError for unreadable
    files. `extractor`: the one to use (it is closed after), e.g. the app's, which knows whether the model reads
    the face; default a HolisticExtractor of its own."""
    frames, times, _ = extract_recording(path, max_side, progress, extractor)
    return frames, times


def extract_recording(path, max_side: int | None = RecognizerConfig.max_side, progress: bool = False,
                      extractor=None) -> tuple[np.ndarray, np.ndarray, float]:
    """`extract_video`'s (frames, t_ms) and the video's aspect (width / height), which the landmarks need."""
    from asl_gpt.landmarks.video import probe, read_video

    info = probe(path)
    frames, times = [], []
    it = read_video(path, max_side=max_side)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=info.frames or None, unit="frame", desc="landmarks")
    extract = extractor if extractor is not None else HolisticExtractor()
    try:
        for fr in it:
            frames.append(extract(fr.rgb))
            times.append(fr.t_ms)
    finally:
        if hasattr(extract, "close"):
            extract.close()
    if not frames:
        return np.zeros((0, layout.N_POINTS, 3), np.float32), np.zeros(0, np.float64), info.aspect
    return np.stack(frames), np.asarray(times), info.aspect
