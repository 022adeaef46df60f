"""Real static handshapes (letters/ and massey/) in one canonical hand frame, with signer ids.

Canonical frame: pixel-aspect-correct coordinates, wrist at the origin, wrist -> middle-finger MCP
distance 1, the image's own orientation kept (x right, y down, z toward the camera negative), and
the hand as MediaPipe sees a RIGHT hand in an unmirrored camera frame (letters/ is mirrored to match
massey/, docs/architecture.md and data/README.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_gpt.words import ALPHABET

log = logging.getLogger(__name__)

HELD_OUT_SIGNER = "hand4"  # a Massey signer kept out of everything used for training, for evaluation
LETTERS_SIGNER = "webcam"  # the one person of letters/webcam_letters_21x3.npz
LETTERS_FRAME = (640.0, 480.0)  # letters/ comes from a 4:3 webcam: x and y are in different units
MASSEY_FRAME = (600.0, 600.0)  # 400 x 400 photos padded by 100 px before detection
# Public-domain letter photos of several people (asl_gpt.training.letter_photos rebuilds the file; its
# README beside it names the source and licence). Derived landmarks may be committed: they are.
PHOTOS_FILE = Path(__file__).resolve().parents[2] / "models" / "training-data" / "asl_letters_pd_21x3.npz"
PHOTOS_SIGNER = "photos"


@dataclass(frozen=True)
class HandshapeBank:
    shapes: np.ndarray  # float32[N, 21, 3] canonical hands
    labels: np.ndarray  # str[N]: 'a'..'z', '0'..'9'
    signers: np.ndarray  # str[N]: 'webcam', 'hand1'..'hand4'

    def subset(self, keep: np.ndarray) -> "HandshapeBank":
        return HandshapeBank(self.shapes[keep], self.labels[keep], self.signers[keep])

    def only(self, signers) -> "HandshapeBank":
        return self.subset(np.isin(self.signers, list(signers)))

    def without(self, signers) -> "HandshapeBank":
        return self.subset(~np.isin(self.signers, list(signers)))

    @property
    def signer_names(self) -> list[str]:
        return sorted(set(self.signers.tolist()))

    def index(self) -> dict[str, dict[str, np.ndarray]]:
        """signer -> label -> row indices (the synthesiser samples one signer per phrase)."""
        out: dict[str, dict[str, np.ndarray]] = {}
        for s in self.signer_names:
            rows = np.flatnonzero(self.signers == s)
            out[s] = {lab: rows[self.labels[rows] == lab] for lab in sorted(set(self.labels[rows].tolist()))}
        return out


def canonicalise(xyz: np.ndarray, frame_wh: tuple[float, float], mirror: bool = False) -> np.ndarray:
    """Raw MediaPipe Hands float[N, 21, 3] (x, y in 0..1 of the frame, z relative to the wrist in
    x units) -> canonical float32[N, 21, 3]."""
    p = np.array(xyz, dtype=np.float64)
    if mirror:
        p[..., 0] = 1.0 - p[..., 0]
    w, h = frame_wh
    p[..., 0] *= w
    p[..., 1] *= h
    p[..., 2] *= w
    p -= p[:, :1]
    scale = np.linalg.norm(p[:, 9, :2], axis=-1)  # wrist -> middle MCP, in the image plane
    p /= np.maximum(scale, 1e-6)[:, None, None]
    return p.astype(np.float32)


def load_bank(data_dir: str | Path, photos: Path | None = PHOTOS_FILE) -> HandshapeBank:
    """The real handshape sets in one bank: letters/ and massey/ from `data_dir` (10,508 + 2,075 hands)
    and the committed public-domain photos' landmarks (`photos`; None leaves them out)."""
    data_dir = Path(data_dir)
    parts = []
    if photos is not None and Path(photos).is_file():
        d = np.load(photos)
        parts.append((canonicalise(d["X"], tuple(float(v) for v in d["frame"])),
                      np.char.lower(d["y"].astype(str)), np.full(len(d["y"]), PHOTOS_SIGNER)))
    letters = data_dir / "letters" / "webcam_letters_21x3.npz"
    if letters.is_file():
        d = np.load(letters)
        parts.append((canonicalise(d["X"], LETTERS_FRAME, mirror=True),
                      np.char.lower(d["y"].astype(str)), np.full(len(d["y"]), LETTERS_SIGNER)))
    massey = data_dir / "massey" / "landmarks_21x3.npz"
    if massey.is_file():
        d = np.load(massey)
        signers = np.array([Path(str(n)).name.split("_")[0] for n in d["names"]])
        parts.append((canonicalise(d["X"], MASSEY_FRAME), np.char.lower(d["y"].astype(str)), signers))
    if len(parts) == (photos is not None and Path(photos).is_file()):
        raise FileNotFoundError(f"no handshape data under {data_dir} (letters/ or massey/)")
    shapes = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts]).astype(str)
    signers = np.concatenate([p[2] for p in parts]).astype(str)
    ok = np.isfinite(shapes).all(axis=(1, 2)) & (np.abs(shapes).max(axis=(1, 2)) < 10)
    log.info("handshape bank: %d hands from %s", int(ok.sum()), ", ".join(sorted(set(signers))))
    return HandshapeBank(shapes[ok], labels[ok], signers[ok])


def reference_hands(bank: HandshapeBank, signers=("webcam", "hand1", "hand2", "hand3")) -> dict[str, list]:
    """letter -> [[x, y, z] * 21]: the median canonical right hand of each letter over the training signers, as
    the camera sees it (image axes, wrist at the origin, wrist->middle MCP = 1; z, negative toward the camera,
    tells the app which finger is in front). The app's Calibrate panel
    draws these as the reference handshape (asl_gpt/app/reference_hands.json, written by
    `python -m asl_gpt.training.handshapes`)."""
    sub = bank.only(signers)
    out = {}
    for letter in ALPHABET:
        rows = sub.labels == letter
        if rows.any():
            out[letter] = [[round(float(v), 3) for v in p] for p in np.median(sub.shapes[rows], axis=0)]
    return out


if __name__ == "__main__":  # writes the app's reference handshapes from the real data (../shared/data)
    import json
    import sys

    from asl_gpt.config import load_settings

    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "app" / "reference_hands.json"
    hands = reference_hands(load_bank(load_settings().paths.data_dir))
    dest.write_text(json.dumps({"about": "median canonical right hand per letter (letters/ webcam signer and "
                                         "Massey hand1-3), image axes, z toward the camera negative; see asl_gpt.training.handshapes.reference_hands",
                                "hands": hands}) + "\n")
    print(f"{len(hands)} letters -> {dest}")
