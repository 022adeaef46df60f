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

import numpy as np

from asl_gpt.config import RecognizerConfig
from asl_gpt.landmarks import layout

log = logging.getLogger(__name__)

# MediaPipe's C++ side logs a warning per graph and per frame; keep the console readable.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """uint8[H, W, 3] RGB -> float32[543, 3] (NaN where a part is missing)."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected uint8[H, W, 3] RGB, got {rgb.dtype}{list(rgb.shape)}")
        res = self._holistic.process(np.ascontiguousarray(rgb))
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
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All frames of a video -> (float32[T, 543, 3], t_ms float64[T]). InputError for unreadable files."""
    from asl_gpt.landmarks.video import probe, read_video

    info = probe(path)
    frames, times = [], []
    it = read_video(path, max_side=max_side)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=info.frames or None, unit="frame", desc="landmarks")
    with HolisticExtractor() as extract:
        for fr in it:
            frames.append(extract(fr.rgb))
            times.append(fr.t_ms)
    return np.stack(frames), np.asarray(times)
