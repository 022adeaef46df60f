"""More real hands for the letter evidence: MediaPipe Hands landmarks of public-domain letter photos.

Source: the "American Sign Language Letters" v1 photos by David Lee (Roboflow Universe, licence: Public
Domain; 1,728 images of A-Z by several people, each source photo exported three times with a random
horizontal flip, crop and small rotation). A copy lives in the public GitHub repository
Beastojenisto/AmericanSignLanguageDetectorYOLOv8 (folder American-Sign-Language-Letters-1/). Only the
derived landmarks are committed (models/training-data/), never the photos; this module rebuilds them:

    python -m asl_gpt.training.letter_photos GIT_DIR_OR_FOLDER models/training-data/asl_letters_pd_21x3.npz

Each photo is padded by a black border (Hands misses hands that touch the edge) and read once in
static-image mode. Flipped copies show a left hand: every detection is turned into the bank's
convention (a RIGHT hand as MediaPipe sees it in an unmirrored frame) by MediaPipe's own handedness,
so the same letter never appears in two chiralities. Output like massey/landmarks_21x3.npz: `X` (N, 21, 3)
raw Hands coordinates of the padded square image, `y` the letter, `names` the photo's file name,
`frame` the padded image's (width, height).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PREFIX = "American-Sign-Language-Letters-1"
PAD = 100  # px of black around each 416 x 416 photo, as for Massey
# MediaPipe Hands assumes a mirrored (selfie) image: a right hand in an unmirrored photo is labelled
# "Left". The bank's canonical hand is that one (Massey's photos are right hands, unmirrored).
CANONICAL_LABEL = "Left"


def _photos(src: Path, work: Path) -> list[Path]:
    """The dataset's .jpg files from a folder, or from a git directory (bare mirror) by `git archive`."""
    if (src / PREFIX).is_dir() or any(src.rglob("*.jpg")):
        return sorted(src.rglob("*.jpg"))
    tar = subprocess.run(["git", "--git-dir", str(src), "archive", "--format=tar", "HEAD", PREFIX],
                         check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=tar, check=True)
    return sorted(work.rglob("*.jpg"))


def extract(src: str | Path, progress: bool = True) -> dict[str, np.ndarray]:
    import cv2
    import mediapipe as mp

    with tempfile.TemporaryDirectory() as tmp:
        photos = _photos(Path(src), Path(tmp))
        if not photos:
            raise FileNotFoundError(f"no .jpg photos under {src}")
        xs, ys, names, flips = [], [], [], 0
        it = photos
        if progress:
            from tqdm import tqdm

            it = tqdm(photos, desc="letter photos", unit="photo")
        with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=1, model_complexity=1,
                                      min_detection_confidence=0.3) as hands:
            for p in it:
                letter = p.name[0].lower()  # Roboflow keeps the original name first: "A0_jpg.rf.<hash>.jpg"
                if not letter.isalpha():
                    continue
                img = cv2.imread(str(p))
                if img is None:
                    continue
                img = cv2.copyMakeBorder(img, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=(0, 0, 0))
                res = hands.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
                if not res.multi_hand_landmarks:
                    continue
                pts = np.array([[q.x, q.y, q.z] for q in res.multi_hand_landmarks[0].landmark], np.float32)
                if res.multi_handedness[0].classification[0].label != CANONICAL_LABEL:
                    pts[:, 0] = 1.0 - pts[:, 0]  # a left hand (a flipped copy) as the right hand
                    flips += 1
                xs.append(pts)
                ys.append(letter.upper())
                names.append(p.name)
        h, w = img.shape[:2]
    log.info("%d of %d photos gave a hand (%d mirrored to a right hand)", len(xs), len(photos), flips)
    return {"X": np.stack(xs), "y": np.array(ys), "names": np.array(names), "frame": np.array([w, h], np.int32)}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if len(sys.argv) != 3:
        sys.exit("usage: python -m asl_gpt.training.letter_photos SOURCE OUT.npz")
    out = Path(sys.argv[2])
    data = extract(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **data)
    print(f"{len(data['X'])} hands -> {out}")
