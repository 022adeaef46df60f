"""The training loop: checkpoints, resume, a progress bar, validation with the competition metric,
and the two-round scheme (round-1 out-of-fold scores as an auxiliary target in round 2).

Losses: label-smoothed cross-entropy on the teacher-forced decoder, plus binary cross-entropy on the
confidence head. The confidence target is 0 for negatives (not fingerspelling) and, for real
phrases, how right the decoder is on this sample (teacher-forced token accuracy squared); in round 2
it is blended with the round-1 out-of-fold score of the sequence, the auxiliary target.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from asl_gpt.landmarks import layout
from asl_gpt.model.fingerspeller import Fingerspeller, greedy_decode, load_checkpoint, save_checkpoint
from asl_gpt.model.presets import ModelConfig, get_preset
from asl_gpt.recognition.tokenizer import Tokenizer
from asl_gpt.training import augment as aug
from asl_gpt.training import distributed as ddp
from asl_gpt.training import metrics
from asl_gpt.training.data import Batch, CompetitionSource, Record, make_batch, read_oof, scan_competition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    preset: str = "default"  # model size (asl_gpt.model.presets)
    data: str = "synth"  # 'synth' (real handshapes -> synthesised phrases) or a competition data folder
    data_dir: Path | None = None  # shared/data (handshapes, seed capture, symmetry.csv); settings give it
    fold: int = -1  # competition: validate on this participant fold, train on the rest; -1 = train on all
    out: Path = Path("var/train/default")  # checkpoints, log, out-of-fold predictions
    steps: int = 20000  # optimiser steps in total (a resumed run continues to this number)
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup: int = 300  # linear warm-up steps, then cosine decay to 5%
    label_smoothing: float = 0.1
    conf_weight: float = 0.3  # weight of the confidence-head loss
    ctc_weight: float = 0.3  # weight of the auxiliary CTC loss on the encoder (hybrid CTC/attention)
    val_every: int = 500  # steps between validations (and checkpoints)
    val_size: int = 256  # validation sequences
    threads: int = 2  # torch CPU threads
    workers: int = 1  # background processes producing batches (0 = in the training process)
    seed: int = 0
    resume: bool = False  # continue from out/last.pt
    init: Path | None = None  # start from this checkpoint's weights (step 0, a fresh optimiser); ignored when resuming
    max_minutes: float = 0.0  # stop cleanly (checkpoint saved) after this much wall time; 0 = no limit
    oof_out: bool = False  # after training, write the validation fold's predictions (round 1)
    aux_oof: tuple[str, ...] = ()  # round 2: OOF csv files from round 1 (sequence_id, score)
    aux_blend: float = 0.5  # round 2: weight of the OOF score in the confidence target
    augment: aug.AugmentOptions = aug.AugmentOptions()
    device: str = "cpu"
    progress: bool = True


# --- sample streams ---------------------------------------------------------------------------------

def _symmetry(data_dir: Path | None) -> np.ndarray | None:
    p = data_dir / "kaggle-format" / "symmetry.csv" if data_dir else None
    return layout.mirror_permutation(p) if p and p.is_file() else None


def build_synthesizer(data_dir: Path, knowledge_dir: Path | None, include_held_out: bool = False):
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank
    from asl_gpt.training.synth import Synthesizer, load_body_frames, vocabulary

    bank = load_bank(data_dir)
    if not include_held_out:
        bank = bank.without([HELD_OUT_SIGNER])
    return Synthesizer(bank, load_body_frames(data_dir), words=vocabulary(knowledge_dir))


def _prefix_crop(r: Record, rng: np.random.Generator) -> Record:
    """The runtime decodes a phrase while it is being spelled: teach it prefixes (synth only)."""
    if r.kind != "spell" or r.char_times_ms is None or len(r.text) < 2:
        return r
    k = int(rng.integers(1, len(r.text)))
    cut_ms = (r.char_times_ms[k - 1] + r.char_times_ms[k]) / 2
    n = max(1, int(np.searchsorted(r.times_ms, cut_ms)))
    return dataclasses.replace(r, frames=r.frames[:n], text=r.text[:k].rstrip(), times_ms=r.times_ms[:n],
                               char_times_ms=r.char_times_ms[:k])


class RecordStream:
    """Endless augmented training records from the synthesiser or a competition source."""

    def __init__(self, opts: TrainOptions, knowledge_dir: Path | None, seed: int, shard: tuple[int, int] = (0, 1)):
        self.o = opts
        self.shard = shard  # (this stream's index, streams in all): each reads its own share of a competition set
        self.rng = np.random.default_rng(seed)
        self.perm = _symmetry(opts.data_dir)
        self.synth = self.source = None
        if opts.data == "synth":
            self.synth = build_synthesizer(opts.data_dir, knowledge_dir)
        else:
            infos = [i for i in scan_competition(opts.data) if i.fold != opts.fold]
            self.source = CompetitionSource(infos, aux=read_oof(list(opts.aux_oof)) if opts.aux_oof else None)
        self._order, self._pos, self._passes = np.zeros(0, np.int64), 0, 0
        self._recent: dict[str, Record] = {}

    def _raw(self) -> Record:
        if self.synth is not None:
            s = self.synth.sample(self.rng)
            return Record(s.frames, s.text, s.signer, s.kind, s.char_times_ms, s.times_ms, aspect=s.aspect)
        if self._pos >= len(self._order):
            k, n = self.shard  # every shard draws the same order (seed and pass), then takes its share of it
            self._order = self.source.file_order(np.random.default_rng((self.o.seed, self._passes)))[k::n]
            self._pos, self._passes = 0, self._passes + 1
        self._pos += 1
        return self.source.record(int(self._order[self._pos - 1]))

    def next(self) -> Record:
        r = self._raw()
        a = self.o.augment
        other = self._recent.get(r.group)
        if r.kind == "spell":
            self._recent[r.group] = r
        if other is not None and other is not r and self.rng.random() < a.p_cutmix:
            frames, text = aug.cutmix(r.frames, r.text, other.frames, other.text, self.rng,
                                      r.char_times_ms, other.char_times_ms, r.times_ms, other.times_ms)
            r = Record(frames, text, r.group, r.kind, None, None, r.aux, r.key, r.aspect)
        elif self.rng.random() < 0.15:
            r = _prefix_crop(r, self.rng)
        return dataclasses.replace(r, frames=aug.augment(r.frames, self.rng, self.perm, a))


class _BatchDataset(torch.utils.data.IterableDataset):
    def __init__(self, opts: TrainOptions, cfg: ModelConfig, knowledge_dir: Path | None, seed: int,
                 shard: tuple[int, int] = (0, 1)):
        self.o, self.cfg, self.kd, self.seed, self.shard = opts, cfg, knowledge_dir, seed, shard  # shard: (rank, ranks)

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        w, n = (info.id, info.num_workers) if info else (0, 1)
        rank, ranks = self.shard  # each worker of each rank reads its own share
        stream = RecordStream(self.o, self.kd, self.seed + w, (rank * n + w, ranks * n))
        spec, tok = self.cfg.spec, Tokenizer()
        while True:
            yield make_batch([stream.next() for _ in range(self.o.batch_size)], spec, tok, self.cfg.max_output)


def validation_records(opts: TrainOptions, knowledge_dir: Path | None) -> list[Record]:
    """Fixed validation set: synthesised phrases from the training signers with their own seed (the
    held-out signer is for `asl-gpt eval` only), or the competition's validation fold."""
    if opts.data == "synth":
        syn = build_synthesizer(opts.data_dir, knowledge_dir)
        rng = np.random.default_rng(10_000 + opts.seed)
        out = []
        for _ in range(opts.val_size):
            s = syn.sample(rng)
            out.append(Record(s.frames, s.text, s.signer, s.kind, aspect=s.aspect))
        return out
    infos = [i for i in scan_competition(opts.data) if i.fold == max(opts.fold, 0)]
    src = CompetitionSource(infos)
    n = len(infos) if opts.oof_out and opts.fold >= 0 else min(len(infos), opts.val_size)
    return [src.record(i) for i in range(n)]


# --- steps ------------------------------------------------------------------------------------------

def _tensors(b: Batch, device: str):
    t = lambda a, dt: torch.as_tensor(a, dtype=dt, device=device)  # noqa: E731
    return (t(b.inputs, torch.float32), t(b.mask, torch.float32), t(b.tokens_in, torch.long),
            t(b.targets, torch.long), t(b.negative, torch.bool), t(b.aux, torch.float32))


def compute_loss(model: Fingerspeller, b: Batch, opts: TrainOptions, tok: Tokenizer, rng: np.random.Generator):
    tin = aug.mask_decoder_input(b.tokens_in, opts.augment.p_decoder_mask, len(tok.symbols), rng)
    tin[:, 0] = tok.sos_id
    x, m, tin_t, tgt, neg, aux = _tensors(dataclasses.replace(b, tokens_in=tin), opts.device)
    logits, conf, (ctc_lp, ctc_mask) = model(x, m, tin_t, with_ctc=True)  # [B, L, V], [B, 1], [B, S, V]
    valid = tgt != tok.pad_id
    ce = F.cross_entropy(logits.transpose(1, 2), tgt, ignore_index=tok.pad_id, label_smoothing=opts.label_smoothing)
    chars = valid & (tgt != tok.eos_id)  # the characters, without EOS
    ctc = F.ctc_loss(ctc_lp.transpose(0, 1), tgt.masked_fill(~chars, 0), ctc_mask.sum(1).long(), chars.sum(1),
                     blank=tok.pad_id, zero_infinity=True)
    with torch.no_grad():
        correct = ((logits.argmax(-1) == tgt) & valid).sum(1).float() / valid.sum(1).clamp(min=1).float()
        target = correct ** 2
        has_aux = torch.isfinite(aux)
        target = torch.where(has_aux, (1 - opts.aux_blend) * target + opts.aux_blend * aux.nan_to_num(0.0), target)
        target = torch.where(neg, torch.zeros_like(target), target)
    bce = F.binary_cross_entropy_with_logits(conf[:, 0], target)
    return ce + opts.conf_weight * bce + opts.ctc_weight * ctc, {"ce": float(ce.detach()), "conf": float(bce.detach()),
                                                                 "ctc": float(ctc.detach()), "tok_acc": float(correct[~neg].mean()) if (~neg).any() else 0.0}


@torch.no_grad()
def predict(model: Fingerspeller, records: list[Record], cfg: ModelConfig, batch_size: int = 64,
            device: str = "cpu") -> tuple[list[str], np.ndarray]:
    """Greedy transcripts and confidences of records (torch; the TFLite path is asl_gpt.recognition.recognizer)."""
    model.eval()
    spec, tok = cfg.spec, Tokenizer()
    texts, confs = [], []
    for i in range(0, len(records), batch_size):
        b = make_batch(records[i:i + batch_size], spec, tok, cfg.max_output)
        ids, conf = greedy_decode(model, torch.as_tensor(b.inputs, device=device), torch.as_tensor(b.mask, device=device),
                                  tok.sos_id, tok.eos_id, len(tok.symbols))
        texts += [tok.decode(s) for s in ids]
        confs.append(conf.cpu().numpy())
    return texts, np.concatenate(confs) if confs else np.zeros(0)


def validate(model, records: list[Record], cfg: ModelConfig, device: str = "cpu") -> dict:
    tok = Tokenizer()
    preds, conf = predict(model, records, cfg, device=device)
    pos = [i for i, r in enumerate(records) if r.kind == "spell"]
    neg = [i for i, r in enumerate(records) if r.kind != "spell"]
    s = metrics.score([tok.normalise(records[i].text)[:cfg.max_output] for i in pos], [preds[i] for i in pos])
    out = {**s.as_dict(), "conf_pos": float(conf[pos].mean()) if pos else float("nan"),
           "conf_neg": float(conf[neg].mean()) if neg else float("nan"),
           "silent_neg": float((conf[neg] < 0.5).mean()) if neg else float("nan")}
    return out


def _lr(step: int, o: TrainOptions) -> float:
    if step < o.warmup:
        return o.lr * (step + 1) / o.warmup
    p = min(1.0, (step - o.warmup) / max(1, o.steps - o.warmup))
    return o.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))


def _load_optimizer(optim, saved: dict) -> None:
    """Restore optimiser state; parameters added since (appended to their groups) start without state."""
    new = optim.state_dict()
    mapping = {}
    for g_old, g_new in zip(saved["param_groups"], new["param_groups"]):
        if len(g_old["params"]) > len(g_new["params"]):
            raise ValueError("checkpoint has parameters this model lacks")
        mapping.update(zip(g_old["params"], g_new["params"]))
    new["state"] = {mapping[k]: v for k, v in saved["state"].items()}
    for g_old, g_new in zip(saved["param_groups"], new["param_groups"]):
        g_new.update({k: v for k, v in g_old.items() if k != "params"})
    optim.load_state_dict(new)


def train(opts: TrainOptions, knowledge_dir: Path | None = None) -> Path:
    """Train (or resume) and return the path of the last checkpoint. Under `torchrun` this process is one rank
    of a DistributedDataParallel run (asl_gpt.training.distributed); only rank 0 validates and writes."""
    r, device = ddp.setup(opts.device)
    try:
        return _train(dataclasses.replace(opts, device=device), knowledge_dir, r)
    finally:
        ddp.cleanup(r)


def _build(opts: TrainOptions, cfg: ModelConfig, out: Path, r: ddp.Rank):
    """(model, optimiser, step, best): fresh, from `opts.init`'s weights, or resumed from out/last.pt."""
    model = Fingerspeller(cfg).to(opts.device)
    letter_head = model.encoder.hand_frame.letters if cfg.letter_head else None
    resuming = opts.resume and (out / "last.pt").is_file()
    if opts.init and not resuming:
        _load_weights(model, torch.load(opts.init, map_location=opts.device, weights_only=False), cfg, opts.init)
        log.info("weights from %s", opts.init)
    if letter_head is not None:  # stage 1 (seconds): fit on real handshapes, then frozen
        letter_head.requires_grad_(False)
        if not resuming and not opts.init and r.main:  # the other ranks get rank 0's weights when DDP starts
            _fit_letter_head(letter_head, opts, out)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if p.ndim >= 2 and "pos" not in n]
    no_decay = [p for n, p in trainable if not (p.ndim >= 2 and "pos" not in n)]
    optim = torch.optim.AdamW([{"params": decay, "weight_decay": opts.weight_decay},
                               {"params": no_decay, "weight_decay": 0.0}], lr=opts.lr)
    step, best = 0, -float("inf")
    if resuming:
        ckpt = torch.load(out / "last.pt", map_location=opts.device, weights_only=False)
        _load_weights(model, ckpt, cfg, out / "last.pt")
        _load_optimizer(optim, ckpt["optimizer"])
        step, best = int(ckpt["step"]), float(ckpt.get("best", best))
        log.info("resumed %s at step %d", out / "last.pt", step)
    return model, optim, step, best


def _load_weights(model: Fingerspeller, ckpt: dict, cfg: ModelConfig, path) -> None:
    if ckpt["config"] != cfg.to_dict():
        raise ValueError(f"{path} was trained with another preset; choose its preset (or start a new --out folder)")
    missing, _ = model.load_state_dict(ckpt["state_dict"], strict=False)
    if missing:  # a checkpoint from before a training-only head was added
        log.warning("checkpoint lacks %s: those start fresh", ", ".join(missing))


def _train(opts: TrainOptions, knowledge_dir: Path | None, r: ddp.Rank) -> Path:
    torch.set_num_threads(opts.threads)
    torch.manual_seed(opts.seed)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = get_preset(opts.preset)
    model, optim, step, best = _build(opts, cfg, out, r)
    net = ddp.wrap(model, r, opts.device)  # the forward that averages gradients across ranks
    log.info("model %s: %.2fM parameters", opts.preset, model.n_params() / 1e6)
    val = validation_records(opts, knowledge_dir) if r.main else []
    ds = _BatchDataset(opts, cfg, knowledge_dir, seed=opts.seed * 1000 + step + 7919 * r.rank, shard=(r.rank, r.world))
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=opts.workers,
                                         persistent_workers=opts.workers > 0, prefetch_factor=4 if opts.workers else None)
    tok, rng = Tokenizer(), np.random.default_rng(opts.seed + step + 7919 * r.rank)
    if r.main:
        meta = {"options": {k: str(v) for k, v in dataclasses.asdict(opts).items()}, "config": cfg.to_dict(),
                "processes": r.world}
        (out / "run.json").write_text(json.dumps(meta, indent=1))
    t0 = time.time()
    from tqdm import tqdm

    bar = tqdm(total=opts.steps, initial=step, disable=not (opts.progress and r.main), desc=f"train {opts.preset}",
               unit="step")
    it = iter(loader)
    _train_mode(model)
    while step < opts.steps:
        b = next(it)
        for g in optim.param_groups:
            g["lr"] = _lr(step, opts)
        loss, stats = compute_loss(net, b, opts, tok, rng)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{float(loss.detach()):.3f}", acc=f"{stats['tok_acc']:.2f}")
        stopped = ddp.any_rank(opts.max_minutes > 0 and (time.time() - t0) / 60 > opts.max_minutes, r)
        if r.main and (step % opts.val_every == 0 or step == opts.steps or stopped):
            rec = {"step": step, "lr": _lr(step, opts), "loss": float(loss.detach()), **stats,
                   "minutes": round((time.time() - t0) / 60, 2)}
            best = _checkpoint(model, optim, val, cfg, opts, rec, best, bar)
        if stopped:
            log.info("time budget of %.1f minutes reached at step %d", opts.max_minutes, step)
            break
    bar.close()
    ddp.barrier(r)  # every rank returns once rank 0 has written the last checkpoint
    if r.main and opts.oof_out and opts.data != "synth" and opts.fold >= 0:
        write_oof(model, val, cfg, out / f"oof_fold{opts.fold}.csv", opts.device)
    return out / "last.pt"


def _checkpoint(model, optim, val: list[Record], cfg: ModelConfig, opts: TrainOptions, rec: dict, best: float,
                bar) -> float:
    """Validate, log, and write last.pt, s<step>.pt and (when better) best.pt; returns the best score (rank 0)."""
    out, step = Path(opts.out), rec["step"]
    v = validate(model, val, cfg, opts.device)
    _train_mode(model)
    rec.update({f"val_{k}": x for k, x in v.items()})
    with open(out / "log.jsonl", "a") as logf:
        logf.write(json.dumps(rec) + "\n")
    log.info("step %d: %s", step, rec)
    bar.write(f"step {step}: val normalized Levenshtein {v['normalized_levenshtein']:.3f}, exact {v['exact']:.2f}, "
              f"conf pos {v['conf_pos']:.2f} neg {v['conf_neg']:.2f}")
    if v["normalized_levenshtein"] > best:
        best = v["normalized_levenshtein"]
        save_checkpoint(out / "best.pt", model, step=step, best=best, val=v)
    save_checkpoint(out / "last.pt", model, optimizer=optim.state_dict(), step=step, best=best, val=v)
    save_checkpoint(out / f"s{step}.pt", model, step=step, val=v)  # weights at each validation: averaged later
    return best


def _train_mode(model: Fingerspeller) -> None:
    """Training mode, except a frozen letter head (its dropout must not fire: it is fitted already)."""
    model.train()
    if model.config.letter_head:
        model.encoder.hand_frame.letters.eval()


def _fit_letter_head(head, opts: TrainOptions, out: Path) -> None:
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank
    from asl_gpt.training.letters import fit_letter_head, letter_accuracy

    bank = load_bank(opts.data_dir)
    head.requires_grad_(True)
    figures = fit_letter_head(head, bank.without([HELD_OUT_SIGNER]), progress=opts.progress)
    head.requires_grad_(False)
    figures["held_out"] = letter_accuracy(head, bank.only([HELD_OUT_SIGNER]))
    (out / "letter_head.json").write_text(json.dumps(figures, indent=1))
    log.info("letter head: %s", figures)


def write_oof(model, records: list[Record], cfg: ModelConfig, path: Path, device: str = "cpu") -> None:
    """Round 1's out-of-fold predictions: sequence_id, phrase, prediction, score (1 - normalised distance)."""
    tok = Tokenizer()
    preds, _ = predict(model, records, cfg, device=device)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sequence_id", "phrase", "prediction", "score"])
        for r, p in zip(records, preds):
            ref = tok.normalise(r.text)[:cfg.max_output]
            w.writerow([r.key, ref, p, max(0.0, 1 - metrics.levenshtein(ref, p) / max(1, len(ref)))])
    log.info("wrote %d out-of-fold predictions to %s", len(records), path)


def resume_model(path: str | Path) -> tuple[Fingerspeller, dict]:
    return load_checkpoint(path)
