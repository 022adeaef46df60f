"""MediaPipe Holistic adapter: the only importer of mediapipe.

Uses the legacy `mp.solutions.holistic` (mediapipe 0.10.21 ships its models inside the wheel;
only model_complexity=1 works offline) in video mode, so tracking carries across frames. Returns
float32[543, 3] per frame in the competition's order with NaN for every part not detected.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from asl_gpt.landmarks import layout

log = logging.getLogger(__name__)

# MediaPipe's C++ side logs a warning per graph and per frame; keep the console readable.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class HolisticExtractor:
    """One tracking session (one video or camera stream). Not thread-safe; use one per stream."""

    def __init__(self, static_image_mode: bool = False, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, refine_face_landmarks: bool = False):
        try:
            import mediapipe as mp
        except ImportError as e:  # pragma: no cover - mediapipe is a core dependency
            raise ImportError("mediapipe==0.10.21 is required for landmark extraction") from e
        self._holistic = mp.solutions.holistic.Holistic(
            static_image_mode=static_image_mode,
            model_complexity=1,  # 0 and 2 download a pose model at run time and fail offline
            smooth_landmarks=True,
            refine_face_landmarks=refine_face_landmarks,  # 478 points when True; we keep the 468
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """uint8[H, W, 3] RGB -> float32[543, 3] (NaN where a part is missing)."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected uint8[H, W, 3] RGB, got {rgb.dtype}{list(rgb.shape)}")
        res = self._holistic.process(np.ascontiguousarray(rgb))
        out = layout.empty_frames(1)[0]
        for part, lms in (("face", res.face_landmarks), ("left_hand", res.left_hand_landmarks),
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


def extract_video(path, max_side: int | None = 640, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
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
