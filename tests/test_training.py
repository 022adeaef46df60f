"""The training pipeline on the tiny preset: synthesised data, the competition's layouts (parquet and
.npy), folds by participant, checkpoints and resume, and the two-round scheme."""

import csv
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from asl_gpt.landmarks import layout  # noqa: E402
from asl_gpt.landmarks.io import to_table  # noqa: E402
from asl_gpt.model.presets import competition_columns  # noqa: E402
from asl_gpt.training import data as D  # noqa: E402
from asl_gpt.training.train import TrainOptions, train  # noqa: E402


def _seq(t, seed):
    rng = np.random.default_rng(seed)
    f = layout.empty_frames(t)
    f[:, layout.RIGHT_HAND] = rng.uniform(0.3, 0.6, (t, 21, 3))
    f[:, layout.POSE] = rng.uniform(0.2, 0.9, (t, 33, 3))
    return f


@pytest.fixture()
def competition_dir(tmp_path):
    """A miniature of the competition's layout: train.csv + one parquet of many sequences, and a
    supplemental_metadata.csv whose sequences are per-sequence .npy files (390 columns)."""
    (tmp_path / "train_landmarks").mkdir()
    (tmp_path / "train_landmarks_npy").mkdir()
    frames, rows = [], []
    for k in range(8):
        sid = 1000 + k
        f = _seq(12 + k, k)
        df = to_table(f)
        df.insert(0, "sequence_id", sid)
        frames.append(df)
        rows.append({"path": "train_landmarks/5414471.parquet", "file_id": 5414471, "sequence_id": sid,
                     "participant_id": 100 + k % 4, "phrase": ["hello", "3 creekhouse", "ab cd", "www.x.com"][k % 4]})
    import pandas as pd

    pd.concat(frames).set_index("sequence_id").to_parquet(tmp_path / "train_landmarks" / "5414471.parquet")
    with open(tmp_path / "train.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    rows = []
    rows_idx, axes = layout.columns_to_index(competition_columns())
    for k in range(4):
        sid = 2000 + k
        np.save(tmp_path / "train_landmarks_npy" / f"{sid}.npy", _seq(10, 50 + k)[:, rows_idx, axes])
        rows.append({"path": "supplemental_landmarks/1.parquet", "file_id": 1, "sequence_id": sid,
                     "participant_id": 200 + k, "phrase": "deaf"})
    with open(tmp_path / "supplemental_metadata.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return tmp_path


def test_competition_columns_match_the_competition(data_dir):
    spec = json.loads((data_dir / "kaggle-format" / "inference_args.json").read_text())
    assert tuple(spec["selected_columns"]) == competition_columns()


def test_scan_and_folds_by_participant(competition_dir):
    infos = D.scan_competition(competition_dir)
    assert len(infos) == 12
    by_participant = {}
    for i in infos:
        by_participant.setdefault(i.participant_id, set()).add(i.fold)
    assert all(len(f) == 1 for f in by_participant.values())  # a participant never spans folds
    assert {i.fold for i in infos} == set(range(D.N_FOLDS))
    assert sum(i.path.suffix == ".npy" for i in infos) == 4


def test_records_from_parquet_and_npy(competition_dir):
    infos = D.scan_competition(competition_dir)
    src = D.CompetitionSource(infos)
    for i, info in enumerate(infos):
        r = src.record(i)
        assert r.frames.shape[1:] == (layout.N_POINTS, 3) and r.text == info.phrase
        k = int(info.sequence_id) - (1000 if info.sequence_id.startswith("1") else 2000)
        expect = _seq(12 + k, k) if info.sequence_id.startswith("1") else _seq(10, 50 + k)
        hand = layout.RIGHT_HAND
        np.testing.assert_allclose(r.frames[:, hand], expect[:, hand], rtol=1e-6)
    order = src.file_order(np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(len(infos)))


def test_targets_encoding():
    from asl_gpt.recognition.tokenizer import Tokenizer

    tok = Tokenizer()
    tin, tgt = D.encode_targets(["ab", ""], tok, 4)
    a, b = tok.encode("ab")
    assert tin[0].tolist() == [tok.sos_id, a, b, tok.pad_id, tok.pad_id]
    assert tgt[0].tolist() == [a, b, tok.eos_id, tok.pad_id, tok.pad_id]
    assert tgt[1].tolist()[0] == tok.eos_id  # a negative: stop at once


def test_train_synth_checkpoints_and_resume(tmp_path, data_dir):
    o = TrainOptions(preset="tiny", data="synth", data_dir=data_dir, out=tmp_path / "run", steps=3, val_every=2,
                     val_size=8, batch_size=4, workers=0, threads=1, progress=False)
    last = train(o)
    assert last.is_file() and (tmp_path / "run" / "best.pt").is_file()
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 3]
    assert "val_normalized_levenshtein" in log[-1] and "val_silent_neg" in log[-1]
    import dataclasses

    train(dataclasses.replace(o, steps=5, resume=True))
    assert torch.load(last, weights_only=False)["step"] == 5


def test_two_rounds_on_competition_layout(tmp_path, competition_dir):
    base = TrainOptions(preset="tiny", data=str(competition_dir), fold=0, steps=2, val_every=2, batch_size=4,
                        workers=0, threads=1, progress=False, oof_out=True, augment=D_aug_off())
    train(TrainOptions(**{**base.__dict__, "out": tmp_path / "r1"}))
    oof = tmp_path / "r1" / "oof_fold0.csv"
    rows = list(csv.DictReader(open(oof)))
    fold0 = [i for i in D.scan_competition(competition_dir) if i.fold == 0]
    assert {r["sequence_id"] for r in rows} == {i.sequence_id for i in fold0}
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    aux = D.read_oof([oof])
    assert set(aux) == {i.sequence_id for i in fold0}
    # round 2 on the other folds' data with round-1 scores as auxiliary targets
    r2 = TrainOptions(**{**base.__dict__, "out": tmp_path / "r2", "fold": 1, "oof_out": False, "aux_oof": (str(oof),)})
    assert train(r2).is_file()


def D_aug_off():
    from asl_gpt.training.augment import AugmentOptions

    return AugmentOptions(p_flip=0, p_affine=0, p_time_stretch=0, p_finger_dropout=0, p_face_dropout=0,
                          p_pose_dropout=0, p_cutmix=0.5)


@pytest.mark.slow
def test_train_under_torchrun_on_two_cpu_processes(tmp_path, competition_dir):
    """`asl-gpt train` under torchrun: 2 gloo processes, each its own share of the files, gradients averaged;
    only rank 0 validates and writes (one log line per validation, one checkpoint set). Then --init starts
    a new run from that checkpoint's weights."""
    import os
    import subprocess
    import sys

    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "asl_gpt.cli",
           "train", "--preset", "tiny", "--data", str(competition_dir), "--fold", "0", "--steps", "3", "--val-every", "2",
           "--val-size", "8", "--batch-size", "4", "--workers", "0", "--threads", "1", "--out", str(out), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 3]  # rank 0 alone logs
    assert json.loads((out / "run.json").read_text())["processes"] == 2
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 3
    assert p.stdout.count("checkpoints in") == 1  # the other rank says nothing

    o = TrainOptions(preset="tiny", data=str(competition_dir), fold=0, out=tmp_path / "init", steps=1, val_every=1,
                     val_size=8, batch_size=4, workers=0, threads=1, progress=False, init=out / "last.pt")
    assert torch.load(train(o), weights_only=False)["step"] == 1
