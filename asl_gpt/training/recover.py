"""A shipped `.tflite` -> the torch checkpoint it was exported from, so that training can resume from it.

Only the `.tflite` ships (issue 24: `asl-gpt train --init` needs torch weights). The converter keeps every weight
as a float constant, in the order the torch forward pass uses it, but folds some of them:
  - a LayerNorm feeding a Linear is folded into it (W' = W diag(gamma), b' = b + W beta); where the LayerNorm's
    output is also used elsewhere (post-LN residuals) gamma and beta survive as constants and the fold is undone
    exactly, else (pre-LN) gamma = 1, beta = 0 and the Linear keeps the folded weights: the same function;
  - an eval-mode BatchNorm becomes one multiply and one add (the running statistics are gone): it is rebuilt with
    mean 0, variance 1 and, given real inputs, `calibrate_batchnorm` sets realistic statistics without changing
    the eval function, so that a training-mode step starts where the shipped model is;
  - the stem LayerNorm's beta is added to the encoder's positional table (beta = 0, pos = their sum);
  - the letter head's standardisation becomes subtract-mean, multiply by 1/std.
The recovered model is accepted only if torch and the `.tflite` agree (training.export.parity, every signature).

`python -m asl_gpt.training.recover models/default.tflite OUT.pt [--data-dir DIR]`
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from asl_gpt.errors import InputError
from asl_gpt.model.fingerspeller import Fingerspeller, save_checkpoint
from asl_gpt.model.presets import ModelConfig

log = logging.getLogger(__name__)

PARITY_LIMIT = 1e-4  # max abs difference torch vs TFLite to accept a recovery (export's own parity is ~1.5e-5)


class _Graph:
    """One subgraph of a .tflite flatbuffer: ops in order, constants as numpy arrays, who consumes a tensor."""

    def __init__(self, model, buf: bytes, index: int):
        from ai_edge_litert import schema_py_generated as s

        names = {v: k for k, v in s.BuiltinOperator.__dict__.items() if not k.startswith("_")}
        self.g = g = model.subgraphs[index]
        self.ops = []  # (op name, inputs, outputs)
        for op in g.operators:
            code = model.operatorCodes[op.opcodeIndex]
            self.ops.append((names.get(max(code.builtinCode, code.deprecatedBuiltinCode)), list(op.inputs), list(op.outputs)))
        self.const: dict[int, np.ndarray] = {}
        for i, t in enumerate(g.tensors):
            b = model.buffers[t.buffer]
            raw = bytes(b.data) if b.data is not None and len(b.data) else (buf[b.offset:b.offset + b.size] if b.offset and b.size else b"")
            if raw and t.type == s.TensorType.FLOAT32:
                self.const[i] = np.frombuffer(raw, np.float32).reshape(t.shape).copy()

    def of(self, kind: str):
        return [op for op in self.ops if op[0] == kind]

    def consumers(self, tensor: int):
        return [op for op in self.ops if tensor in op[1]]

    def const_input(self, op, shape_len: int | None = None) -> np.ndarray | None:
        for i in op[1]:
            if i in self.const and (shape_len is None or self.const[i].ndim == shape_len):
                return self.const[i]
        return None


def _load(path: Path):
    from ai_edge_litert import schema_py_generated as s

    buf = path.read_bytes()
    model = s.ModelT.InitFromPackedBuf(buf, 0)
    index = {sd.signatureKey.decode(): sd.subgraphIndex for sd in model.signatureDefs}
    if "encode" not in index or "decode" not in index:
        raise InputError(f"{path} has no encode/decode signatures: not an asl-gpt model")
    return _Graph(model, buf, index["encode"]), _Graph(model, buf, index["decode"])


def _call_order(model: Fingerspeller, part: str) -> list[nn.Module]:
    """The Linear, LayerNorm, Conv1d and BatchNorm1d modules in the order `part` (encode|decode) calls them."""
    from asl_gpt.training.export import sample_inputs

    order: list[nn.Module] = []
    hooks = [m.register_forward_hook(lambda mod, i, o: order.append(mod)) for m in model.modules()
             if isinstance(m, (nn.Linear, nn.LayerNorm, nn.Conv1d, nn.BatchNorm1d))]
    s = sample_inputs(model)
    with torch.no_grad():
        mem, mm, _ = model.encode(torch.from_numpy(s["inputs"]), torch.from_numpy(s["mask"]))
        if part == "decode":
            order.clear()
            model.decode(mem, mm, torch.from_numpy(s["tokens"]).long())
    for h in hooks:
        h.remove()
    return order


def _norms(graph: _Graph) -> list[tuple[int, np.ndarray | None, np.ndarray | None]]:
    """Each LayerNorm in graph order -> (its normalised tensor x_hat, gamma or None, beta-like constant or None)."""
    out = []
    for op in graph.of("RSQRT"):
        r = op[2][0]
        # x_hat = x * r' + shift: the first ADD fed by a MUL of r (reshaped) with a 3-D activation
        scaled = [o for o in graph.ops if o[0] == "RESHAPE" and o[1][0] == r]
        r3 = scaled[0][2][0] if scaled else r
        mul = next(o for o in graph.consumers(r3) if o[0] == "MUL" and all(i not in graph.const for i in o[1]))
        add = next(o for o in graph.consumers(mul[2][0]) if o[0] == "ADD")
        x_hat = add[2][0]
        gamma = beta = None
        g_mul = next((o for o in graph.consumers(x_hat) if o[0] == "MUL" and graph.const_input(o) is not None), None)
        if g_mul is not None:
            gamma = graph.const_input(g_mul)
            b_add = next((o for o in graph.consumers(g_mul[2][0]) if o[0] == "ADD" and graph.const_input(o) is not None), None)
            beta = graph.const_input(b_add) if b_add is not None else None
        out.append((x_hat, gamma, beta))
    return out


def _fill(graph: _Graph, modules: list[nn.Module], model: Fingerspeller, part: str) -> None:
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    fcs = graph.of("FULLY_CONNECTED")
    norms = [m for m in modules if isinstance(m, nn.LayerNorm)]
    found = _norms(graph)
    if len(linears) != len(fcs) or len(norms) != len(found):
        raise InputError(f"{part}: the .tflite has {len(fcs)} dense and {len(found)} norm layers where the model has "
                         f"{len(linears)} and {len(norms)}: another architecture than its contract says")
    folded = {}  # x_hat tensor -> (gamma, beta) as the LayerNorm has them
    for ln, (x_hat, gamma, beta) in zip(norms, found):
        g = gamma if gamma is not None and gamma.ndim == 1 else np.ones(ln.normalized_shape, np.float32)
        b = beta if beta is not None and beta.ndim == 1 else np.zeros(ln.normalized_shape, np.float32)
        ln.weight.data = torch.from_numpy(g.copy())
        ln.bias.data = torch.from_numpy(b.copy())
        folded[x_hat] = (g, b)
        if beta is not None and beta.ndim == 3 and part == "encode":  # stem: beta + positions, one constant
            model.encoder.pos.data = torch.from_numpy(beta.copy())
    for lin, op in zip(linears, fcs):
        w, bias = graph.const[op[1][1]], graph.const[op[1][2]] if len(op[1]) > 2 and op[1][2] >= 0 else None
        if w.shape != tuple(lin.weight.shape):
            raise InputError(f"{part}: dense layer {tuple(w.shape)} where the model has {tuple(lin.weight.shape)}")
        if op[1][0] in folded:  # undo W' = W diag(gamma), b' = b + W beta
            g, b = folded[op[1][0]]
            w = w / g[None, :]
            bias = bias - w @ b
        lin.weight.data = torch.from_numpy(np.ascontiguousarray(w, np.float32))
        if lin.bias is not None:
            lin.bias.data = torch.from_numpy(np.asarray(bias, np.float32).copy())
    convs = [m for m in modules if isinstance(m, nn.Conv1d)]
    for conv, op in zip(convs, graph.of("DEPTHWISE_CONV_2D")):
        k = graph.const[op[1][1]]  # [1, 1, K, C]
        conv.weight.data = torch.from_numpy(np.ascontiguousarray(k[0, 0].T[:, None, :]))
        conv.bias.data = torch.from_numpy(graph.const[op[1][2]].copy())
    bns = [m for m in modules if isinstance(m, nn.BatchNorm1d)]
    muls = [o for o in graph.ops if o[0] == "MUL" and graph.const_input(o, 3) is not None
            and graph.const_input(o, 3).shape[0] == 1 and graph.const_input(o, 3).shape[2] == 1]
    for bn, mul in zip(bns, muls):
        add = next(o for o in graph.consumers(mul[2][0]) if o[0] == "ADD")
        bn.weight.data = torch.from_numpy(graph.const_input(mul, 3)[0, :, 0].copy())
        bn.bias.data = torch.from_numpy(graph.const_input(add, 3)[0, :, 0].copy())
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)


def recover(tflite: str | Path, contract: str | Path | None = None) -> Fingerspeller:
    """The torch model whose export is `tflite` (its architecture from the JSON contract beside it)."""
    tflite = Path(tflite)
    contract = Path(contract) if contract else tflite.with_suffix(".json")
    if not contract.is_file():
        raise InputError(f"{contract} is missing: the contract says which architecture the .tflite is")
    cfg = ModelConfig(**json.loads(contract.read_text())["metadata"]["preset_config"])
    model = Fingerspeller(cfg).eval()
    encode, decode = _load(tflite)
    _fill(encode, _call_order(model, "encode"), model, "encode")
    _fill(decode, _call_order(model, "decode"), model, "decode")
    # the rest: embeddings, positions, the letter head's standardisation
    lookups = decode.of("EMBEDDING_LOOKUP") + decode.of("GATHER")
    model.decoder.embed.weight.data = torch.from_numpy(decode.const_input(lookups[0]).copy())
    pos = next(decode.const_input(o, 3) for o in decode.of("ADD") if decode.const_input(o, 3) is not None
               and decode.const_input(o, 3).shape == tuple(model.decoder.pos.shape))
    model.decoder.pos.data = torch.from_numpy(pos.copy())
    if model.has_letter_head:
        head = model.encoder.hand_frame.letters
        n = head.mean.shape[0]
        # (x - mean) * (1 / std), each left out by the converter where it is the identity (mean 0, std 1)
        first = next(o for o in encode.ops if o[0] in ("SUB", "MUL", "FULLY_CONNECTED"))
        mean = encode.const_input(first, 3) if first[0] == "SUB" else None
        after = encode.consumers(first[2][0])[0] if first[0] == "SUB" else first
        inv = encode.const_input(after, 3) if after[0] == "MUL" else None
        head.mean.copy_(torch.from_numpy(mean.reshape(n)) if mean is not None else torch.zeros(n))
        head.std.copy_(torch.from_numpy(1.0 / inv.reshape(n)) if inv is not None else torch.ones(n))
    # the training-only CTC head is not exported: start it at zero, so that its first gradients do not push the
    # recovered encoder around before it has learnt anything
    nn.init.zeros_(model.ctc_head.weight)
    nn.init.zeros_(model.ctc_head.bias)
    return model.eval()


@torch.no_grad()
def calibrate_batchnorm(model: Fingerspeller, inputs: torch.Tensor, mask: torch.Tensor) -> None:
    """Give each recovered BatchNorm the statistics of real inputs, keeping its eval function: with running mean m
    and variance v, gamma = scale * sqrt(v + eps) and beta = shift + m * scale. A training step then normalises
    with batch statistics near m and v, where the shipped model is, instead of mean 0 and variance 1."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    seen: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(mod, args, _out):
        x = args[0]  # [B, C, T]; padded frames are zeros after the masked GLU, so use frames with any signal
        keep = x.abs().sum(1) > 0  # [B, T]
        xs = x.transpose(1, 2)[keep]  # [N, C]
        if len(xs) > 1:
            seen[mod] = (xs.mean(0), xs.var(0))

    hooks = [bn.register_forward_hook(hook) for bn in bns]
    model.eval()
    model.encode(inputs, mask)
    for h in hooks:
        h.remove()
    for bn in bns:
        if bn not in seen:
            continue
        m, v = seen[bn]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        shift = bn.bias - bn.running_mean * scale
        bn.running_mean.copy_(m)
        bn.running_var.copy_(v)
        bn.weight.copy_(scale * torch.sqrt(v + bn.eps))
        bn.bias.copy_(shift + m * scale)


def check(model: Fingerspeller, tflite: str | Path, seeds=(0, 1, 2)) -> float:
    """Worst max abs difference torch vs the .tflite over every signature and several random inputs."""
    from asl_gpt.training.export import parity

    return max(parity(model, tflite, seed).worst for seed in seeds)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("tflite", type=Path)
    p.add_argument("out", type=Path, help="the torch checkpoint to write (.pt)")
    p.add_argument("--data-dir", type=Path, help="real data folder: synthesised phrases set the BatchNorm statistics")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = recover(a.tflite)
    if a.data_dir:
        calibrate_batchnorm(model, *_synth_batch(model, a.data_dir))
    worst = check(model, a.tflite)
    print(f"parity torch vs {a.tflite}: max abs difference {worst:.2e} (limit {PARITY_LIMIT:g})")
    if not worst < PARITY_LIMIT:
        raise SystemExit(f"recovery rejected: {worst:.2e} >= {PARITY_LIMIT:g}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(a.out, model, step=0, recovered_from=str(a.tflite), parity=worst)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.1f} MB)")


def _synth_batch(model: Fingerspeller, data_dir: Path, n: int = 64, seed: int = 0):
    """`n` synthesised training phrases as model inputs (the hand-held-out synthesiser, as in training)."""
    from asl_gpt.recognition import features
    from asl_gpt.training.train import build_synthesizer

    syn = build_synthesizer(data_dir, None)
    rng = np.random.default_rng(seed)
    xs, ms = [], []
    for _ in range(n):
        s = syn.sample(rng)
        x, m = features.prepare(s.frames, model.config.spec, aspect=s.aspect)
        xs.append(x)
        ms.append(m)
    return torch.from_numpy(np.stack(xs)).float(), torch.from_numpy(np.stack(ms)).float()


if __name__ == "__main__":
    main()
