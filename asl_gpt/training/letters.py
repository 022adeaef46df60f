"""Stage 1 of the signing-hand model: fit its per-frame letter head on real static handshapes.

The head reads `features.hand_invariants` of one hand and names the letter. It is trained here on
the real handshape bank (letters/ + massey/, the held-out signer excluded), with augmentations that
stand for the ways real signers and cameras differ: bone lengths (finger proportions), finger
curl, 3D turns of the hand, a wrongly assumed frame aspect, and tracking noise. Then it is frozen and
the sequence model is trained on top of it (asl_gpt.training.train).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from asl_gpt.recognition import features
from asl_gpt.training.handshapes import HandshapeBank
from asl_gpt.words import ALPHABET as LETTERS

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class LetterHeadOptions:
    steps: int = 3000  # optimiser steps
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-3
    bone_sd: float = 0.08  # per-bone length factor, sd (finger proportions of other people)
    curl_deg: float = 8.0  # per-joint extra flexion, sd in degrees
    turn_deg: tuple[float, float, float] = (25.0, 30.0, 20.0)  # roll, yaw, pitch ranges (+-)
    aspect: tuple[float, float] = (0.85, 1.18)  # x stretch: a frame aspect taken slightly wrong
    noise: float = 0.03  # landmark noise, palm units
    seed: int = 0


def _rotation(roll: np.ndarray, yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """[N, 3, 3] rotations: roll about the camera axis, yaw about the vertical, pitch about the horizontal."""
    def about(axis: int, a: np.ndarray) -> np.ndarray:  # [N, 3, 3] rotation by angles a about one axis
        i, j = [k for k in range(3) if k != axis]
        r = np.zeros((len(a), 3, 3))
        r[:, axis, axis] = 1.0
        r[:, i, i], r[:, i, j], r[:, j, i], r[:, j, j] = np.cos(a), -np.sin(a), np.sin(a), np.cos(a)
        return r

    return about(2, roll) @ about(1, -yaw) @ about(0, pitch)


def perturb_hands(shapes: np.ndarray, rng: np.random.Generator,
                  o: LetterHeadOptions = LetterHeadOptions()) -> np.ndarray:
    """float[N, 21, 3] canonical hands -> the same letters as other people and cameras might show them."""
    p = np.array(shapes, np.float64)
    n = len(p)
    out = p.copy()
    for chain in features.FINGERS:  # rebuild each finger from the wrist with new bone lengths and curl
        for i in range(1, 5):
            parent, child = chain[i - 1], chain[i]
            bone = (p[:, child] - p[:, parent]) * rng.normal(1.0, o.bone_sd, (n, 1))
            if i >= 2:  # bend about the palm's side axis a little (curl differs between people)
                a = np.radians(rng.normal(0.0, o.curl_deg, n))
                c, s = np.cos(a), np.sin(a)
                y, z = bone[:, 1].copy(), bone[:, 2].copy()
                bone[:, 1], bone[:, 2] = c * y - s * z, s * y + c * z
            out[:, child] = out[:, parent] + bone
    r = [np.radians(rng.uniform(-d, d, n)) for d in o.turn_deg]
    out = np.einsum("nij,npj->npi", _rotation(*r), out)
    out[..., 0] *= rng.uniform(*o.aspect, (n, 1))
    out += rng.normal(0.0, o.noise, out.shape)
    return out.astype(np.float32)


def letter_data(bank: HandshapeBank) -> tuple[np.ndarray, np.ndarray]:
    """(shapes[N, 21, 3], label ids[N]) of the bank's letters (digits left out)."""
    keep = np.isin(bank.labels, list(LETTERS))
    return bank.shapes[keep], np.array([LETTERS.index(c) for c in bank.labels[keep]], np.int64)


def fit_letter_head(head, bank: HandshapeBank, o: LetterHeadOptions = LetterHeadOptions(), progress: bool = True) -> dict:
    """Train `head` (asl_gpt.model.fingerspeller.LetterHead) in place; returns its training figures.
    Signers are balanced (the webcam signer has 5x the shapes of the others)."""
    shapes, labels = letter_data(bank)
    signers = bank.signers[np.isin(bank.labels, list(LETTERS))]
    weights = np.zeros(len(labels))
    for s in set(signers.tolist()):
        weights[signers == s] = 1.0 / (signers == s).sum()
    weights /= weights.sum()
    rng = np.random.default_rng(o.seed)
    inv = features.hand_invariants(shapes)
    head.mean.copy_(torch.as_tensor(inv.mean(0)))
    head.std.copy_(torch.as_tensor(inv.std(0) + 1e-3))
    opt = torch.optim.AdamW(head.parameters(), lr=o.lr, weight_decay=o.weight_decay)
    head.train()
    it = range(o.steps)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="letter head", unit="step")
    loss_avg = 0.0
    for step in it:
        lr = o.lr * 0.5 * (1 + math.cos(math.pi * step / o.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.choice(len(labels), o.batch_size, p=weights)
        x = torch.as_tensor(features.hand_invariants(perturb_hands(shapes[idx], rng, o)))
        loss = F.cross_entropy(head(x), torch.as_tensor(labels[idx]), label_smoothing=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_avg = 0.98 * loss_avg + 0.02 * loss.item() if step else loss.item()
    head.eval()
    return {"steps": o.steps, "loss": round(loss_avg, 4), "shapes": int(len(labels)),
            "signers": sorted(set(signers.tolist()))}


@torch.no_grad()
def letter_accuracy(head, bank: HandshapeBank) -> dict:
    """Accuracy of the head on the bank's letters as they are (no augmentation), per signer."""
    shapes, labels = letter_data(bank)
    signers = bank.signers[np.isin(bank.labels, list(LETTERS))]
    pred = head(torch.as_tensor(features.hand_invariants(shapes))).argmax(-1).numpy()
    out = {"accuracy": round(float((pred == labels).mean()), 4) if len(labels) else None}
    out["per_signer"] = {s: round(float((pred[signers == s] == labels[signers == s]).mean()), 4)
                         for s in sorted(set(signers.tolist()))}
    return out
