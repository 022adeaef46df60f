"""The fingerspelling network: Squeezeformer encoder, 2-layer Transformer decoder, confidence head.

Shapes use B batch, T window frames, C input columns, D encoder width, E decoder width, L decoder
positions (SOS + max_output), V vocabulary (59 symbols + PAD, SOS, EOS), H heads.

Written for clean TFLite conversion (asl_gpt.training.export): fixed T and L, masks instead of
dynamic lengths, attention spelled out with matmuls, SiLU instead of erf-GELU, no data-dependent
control flow in forward passes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from asl_gpt.recognition import features
from asl_gpt.model.presets import ModelConfig

NEG = -1e4  # additive attention bias for masked positions (finite: fp16/TFLite friendly)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int, dropout: float):
        super().__init__()
        self.up = nn.Linear(dim, dim * mult)
        self.down = nn.Linear(dim * mult, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):  # [B, T, D] -> [B, T, D]
        return self.drop(self.down(self.drop(F.silu(self.up(x)))))


class Attention(nn.Module):
    """Multi-head attention; `bias` is added to the scores ([B or 1, 1, Tq or 1, Tk])."""

    def __init__(self, dim: int, heads: int, dropout: float, kv_dim: int | None = None):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(kv_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, kv, bias):  # x [B, Tq, D], kv [B, Tk, Dkv] -> [B, Tq, D]
        b, tq, d = x.shape
        tk = kv.shape[1]
        q = self.q(x).reshape(b, tq, self.heads, self.head_dim).transpose(1, 2)  # [B, H, Tq, d]
        k, v = self.kv(kv).reshape(b, tk, 2, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)  # [B, H, Tk, d] each
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + bias  # [B, H, Tq, Tk]
        att = self.drop(torch.softmax(scores, dim=-1))
        y = (att @ v).transpose(1, 2).reshape(b, tq, d)  # [B, Tq, D]
        return self.out(y)


class ConvModule(nn.Module):
    """Pointwise GLU, depthwise conv over time, batch norm, SiLU, pointwise (Conformer/Squeezeformer)."""

    def __init__(self, dim: int, kernel: int, dropout: float):
        super().__init__()
        self.pw1 = nn.Linear(dim, 2 * dim)
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.bn = nn.BatchNorm1d(dim)
        self.pw2 = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):  # x [B, T, D], mask [B, T] -> [B, T, D]
        x = F.glu(self.pw1(x), dim=-1) * mask.unsqueeze(-1)  # padded frames must not leak into the conv
        x = self.dw(x.transpose(1, 2))  # [B, D, T]
        x = F.silu(self.bn(x)).transpose(1, 2)  # [B, T, D]
        return self.drop(self.pw2(x))


class SqueezeformerBlock(nn.Module):
    """Squeezeformer's MF/CF block: post-LN residuals, attention -> FFN -> conv -> FFN."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.att = Attention(c.dim, c.n_heads, c.dropout)
        self.ff1 = FeedForward(c.dim, c.ffn_mult, c.dropout)
        self.conv = ConvModule(c.dim, c.conv_kernel, c.dropout)
        self.ff2 = FeedForward(c.dim, c.ffn_mult, c.dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(c.dim) for _ in range(4))
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x, mask, bias):  # x [B, T, D], mask [B, T], bias [B, 1, 1, T] -> [B, T, D]
        x = self.norms[0](x + self.drop(self.att(x, x, bias)))
        x = self.norms[1](x + self.ff1(x))
        x = self.norms[2](x + self.conv(x, mask))
        return self.norms[3](x + self.ff2(x))


class TimeReduction(nn.Module):
    """Squeezeformer's time reduction: a stride-2 depthwise-separable conv halves T (mask: pairwise max)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dw = nn.Conv1d(dim, dim, 3, stride=2, padding=1, groups=dim)
        self.pw = nn.Linear(dim, dim)

    def forward(self, x, mask):  # x [B, T, D], mask [B, T] -> [B, T/2, D], [B, T/2]
        x = self.pw(self.dw((x * mask.unsqueeze(-1)).transpose(1, 2)).transpose(1, 2))
        b, t = mask.shape
        mask = mask.reshape(b, t // 2, 2).amax(-1)
        return x * mask.unsqueeze(-1), mask


class HandFrame(nn.Module):
    """Append each hand's points in the hand's own frame: minus the wrist, over the wrist->middle-MCP
    length. The window-level normalisation (asl_gpt.recognition.features) keeps position and size in the
    inputs; this makes the handshape itself easy to read (a division a linear layer cannot learn).
    A missing hand (all zeros after features.normalise) stays zero."""

    def __init__(self, columns: tuple[str, ...]):
        super().__init__()
        where = {c: i for i, c in enumerate(columns)}
        hands = []
        for hand in ("left_hand", "right_hand"):
            names = [f"{a}_{hand}_{i}" for a in "xyz" for i in range(21)]
            if all(n in where for n in names):
                hands.append([where[n] for n in names])
        self.register_buffer("index", torch.tensor(hands, dtype=torch.long).reshape(-1), persistent=False)
        self.n_hands = len(hands)

    @property
    def extra(self) -> int:
        return 63 * self.n_hands

    def forward(self, x):  # [B, T, C] -> [B, T, C + 63 * hands]
        if not self.n_hands:
            return x
        b, t, _ = x.shape
        h = torch.index_select(x, 2, self.index).reshape(b, t, self.n_hands, 3, 21)
        rel = h - h[..., :1]  # wrist at the origin
        palm = torch.sqrt(rel[..., 0, 9] ** 2 + rel[..., 1, 9] ** 2 + 1e-6)  # [B, T, hands]
        present = (h.abs().sum(dim=(-1, -2)) > 0).float()
        rel = torch.clamp(rel / torch.clamp(palm, min=0.05)[..., None, None], -8.0, 8.0) * present[..., None, None]
        return torch.cat([x, rel.reshape(b, t, self.n_hands * 63)], dim=-1)


class LetterHead(nn.Module):
    """Per-frame letter evidence from the signing hand's invariants (asl_gpt.recognition.features.hand_invariants).

    Trained first on real static handshapes (asl_gpt.training.letters), then frozen: the encoder
    reads its log-probabilities, not the raw geometry, so what it learns from synthesised motion
    rests on evidence that was fitted to real hands. `mean`/`std` standardise the invariants."""

    def __init__(self, hidden: int, n_letters: int):
        super().__init__()
        n = features.N_INVARIANTS
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))
        self.net = nn.Sequential(nn.Linear(n, hidden), nn.SiLU(), nn.Dropout(0.2), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Dropout(0.2), nn.Linear(hidden, n_letters))

    def forward(self, inv):  # [..., 103] -> letter logits [..., n_letters]
        return self.net((inv - self.mean) / self.std)


class HandInput(nn.Module):
    """Signing-hand features [B, T, 103 + extra] -> [letter log-probs (0 where no hand), extra]."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.letters = LetterHead(c.letter_head, c.n_letters)
        self.extra = c.n_features - features.N_INVARIANTS

    @property
    def width(self) -> int:
        return self.letters.net[-1].out_features + self.extra

    def letter_logits(self, x):  # [B, T, C] -> [B, T, n_letters], before the softmax
        return self.letters(x[..., :features.N_INVARIANTS])

    def forward(self, x, logits=None):  # [B, T, C] (+ letter logits [B, T, n_letters]) -> [B, T, n_letters + extra]
        """`logits`: the letter evidence to use instead of the head's own (a user's calibration
        profile adjusts it outside the model, asl_gpt.recognition.calibration)."""
        extra = x[..., features.N_INVARIANTS:]
        present = extra[..., :1]
        logp = torch.log_softmax(self.letter_logits(x) if logits is None else logits, dim=-1) * present
        return torch.cat([logp, extra], dim=-1)


class Encoder(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.reduce_at = c.reduce_at
        if c.letter_head:
            self.hand_frame = HandInput(c)
            width = self.hand_frame.width
        else:
            self.hand_frame = HandFrame(c.columns) if c.hand_frame else nn.Identity()
            width = c.n_features + (self.hand_frame.extra if c.hand_frame else 0)
        self.stem = nn.Sequential(nn.Linear(width, c.dim), nn.LayerNorm(c.dim))
        self.pos = nn.Parameter(torch.zeros(1, c.window, c.dim))
        self.blocks = nn.ModuleList(SqueezeformerBlock(c) for _ in range(c.n_blocks))
        self.reduce = TimeReduction(c.dim) if 0 <= c.reduce_at < c.n_blocks else None

    def forward(self, inputs, mask, letter_logits=None):
        """inputs [B, T, C], mask [B, T] -> [B, S, D], mask [B, S] (S = T or T/2). `letter_logits`
        [B, T, n_letters] replace the letter head's (letter-head models only)."""
        x = self.hand_frame(inputs) if letter_logits is None else self.hand_frame(inputs, letter_logits)
        x = self.stem(x) + self.pos
        for i, block in enumerate(self.blocks):
            if i == self.reduce_at and self.reduce is not None:
                x, mask = self.reduce(x, mask)
            x = block(x, mask, ((1.0 - mask) * NEG)[:, None, None, :])  # bias [B, 1, 1, S]
        return x * mask.unsqueeze(-1), mask


class DecoderLayer(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.self_att = Attention(c.dec_dim, c.n_heads, c.dropout)
        self.cross_att = Attention(c.dec_dim, c.n_heads, c.dropout)
        self.ff = FeedForward(c.dec_dim, c.ffn_mult, c.dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(c.dec_dim) for _ in range(3))

    def forward(self, y, memory, causal_bias, memory_bias):  # y [B, L, E], memory [B, T, E] -> [B, L, E]
        h = self.norms[0](y)
        y = y + self.self_att(h, h, causal_bias)
        y = y + self.cross_att(self.norms[1](y), memory, memory_bias)
        return y + self.ff(self.norms[2](y))


class Decoder(nn.Module):
    """Pre-LN Transformer decoder over characters; position i predicts token i + 1."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        length = c.max_output + 1
        self.embed = nn.Embedding(c.vocab_size, c.dec_dim)
        self.pos = nn.Parameter(torch.zeros(1, length, c.dec_dim))
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.dec_layers))
        self.norm = nn.LayerNorm(c.dec_dim)
        self.head = nn.Linear(c.dec_dim, c.vocab_size)
        causal = torch.triu(torch.full((length, length), NEG), diagonal=1)
        self.register_buffer("causal_bias", causal[None, None], persistent=False)  # [1, 1, L, L]

    def forward(self, memory, memory_mask, tokens):  # memory [B, T, E], memory_mask [B, T], tokens [B, L] -> [B, L, V]
        memory_bias = ((1.0 - memory_mask) * NEG)[:, None, None, :]  # [B, 1, 1, T]
        y = self.embed(tokens) + self.pos
        for layer in self.layers:
            y = layer(y, memory, self.causal_bias, memory_bias)
        return self.head(self.norm(y))


class Fingerspeller(nn.Module):
    """encode(inputs, mask) -> (memory, memory_mask, confidence); decode(memory, memory_mask, tokens) -> logits."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.bridge = nn.Linear(config.dim, config.dec_dim)
        self.decoder = Decoder(config)
        self.confidence_head = nn.Sequential(nn.Linear(config.dim, config.dim), nn.SiLU(), nn.Linear(config.dim, 1))
        # Training-only CTC head on the encoder (blank = PAD): the hybrid CTC/attention loss teaches
        # the encoder to align frames with letters much sooner than the decoder alone. Not exported.
        self.ctc_head = nn.Linear(config.dim, config.vocab_size)
        nn.init.normal_(self.encoder.pos, std=0.02)
        nn.init.normal_(self.decoder.pos, std=0.02)

    def encode(self, inputs, mask):
        """inputs [B, T, C], mask [B, T] -> memory [B, S, E], memory_mask [B, S], confidence logit [B, 1]."""
        memory, mask, conf, _ = self._encode(inputs, mask)
        return memory, mask, conf

    def encode_letters(self, letter_logits, inputs, mask):
        """encode() with the per-frame letter logits given from outside (letter-head models)."""
        memory, mask, conf, _ = self._encode(inputs, mask, letter_logits)
        return memory, mask, conf

    def letter_logits(self, inputs):
        """inputs [B, T, C] -> the letter head's per-frame logits [B, T, n_letters] (letter-head models)."""
        return self.encoder.hand_frame.letter_logits(inputs)

    @property
    def has_letter_head(self) -> bool:
        return isinstance(self.encoder.hand_frame, HandInput)

    def _encode(self, inputs, mask, letter_logits=None):
        h, mask = self.encoder(inputs, mask, letter_logits)  # [B, S, D], [B, S]
        pooled = h.sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)  # [B, D] masked mean
        return self.bridge(h), mask, self.confidence_head(pooled), h

    def decode(self, memory, memory_mask, tokens):
        """memory [B, T, E], memory_mask [B, T], tokens [B, L] -> logits [B, L, V]."""
        return self.decoder(memory, memory_mask, tokens)

    def forward(self, inputs, mask, tokens, with_ctc: bool = False):
        """Teacher-forced training pass -> (logits [B, L, V], confidence logit [B, 1]) and, with_ctc,
        (CTC log-probabilities [B, S, V], memory_mask [B, S])."""
        memory, memory_mask, conf, h = self._encode(inputs, mask)
        logits = self.decode(memory, memory_mask, tokens)
        if with_ctc:
            return logits, conf, (torch.log_softmax(self.ctc_head(h), dim=-1), memory_mask)
        return logits, conf

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


# --- checkpoints: config travels with the weights (nanoGPT's model_args) ---------------------------

def save_checkpoint(path, model: Fingerspeller, **extra) -> None:
    torch.save({"config": model.config.to_dict(), "state_dict": model.state_dict(), **extra}, path)


def load_checkpoint(path, map_location="cpu") -> tuple[Fingerspeller, dict]:
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    model = Fingerspeller(ModelConfig(**ckpt["config"]))
    missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
    if unexpected or any(not k.startswith("ctc_head.") for k in missing):  # only the training-only head may be absent
        raise ValueError(f"checkpoint {path} does not match its config (missing {missing}, unexpected {unexpected})")
    model.eval()
    return model, ckpt


@torch.no_grad()
def greedy_decode(model: Fingerspeller, inputs, mask, sos_id: int, eos_id: int, n_symbols: int):
    """Batched torch greedy decoding for validation -> (list of id lists, confidence [B])."""
    memory, memory_mask, conf = model.encode(inputs, mask)
    b, length = inputs.shape[0], model.config.max_output + 1
    tokens = torch.full((b, length), n_symbols, dtype=torch.long)  # PAD (= n_symbols)
    tokens[:, 0] = sos_id
    banned = torch.zeros(model.config.vocab_size, dtype=torch.bool)
    banned[n_symbols:] = True
    banned[eos_id] = False  # PAD/SOS are never outputs, EOS is
    done = torch.zeros(b, dtype=torch.bool)
    out: list[list[int]] = [[] for _ in range(b)]
    for i in range(length - 1):
        logits = model.decode(memory, memory_mask, tokens)[:, i].masked_fill(banned, float("-inf"))  # [B, V]
        nxt = logits.argmax(-1)
        for j in range(b):
            if not done[j]:
                if int(nxt[j]) == eos_id:
                    done[j] = True
                else:
                    out[j].append(int(nxt[j]))
        if bool(done.all()):
            break
        tokens[:, i + 1] = nxt
    return out, torch.sigmoid(conf[:, 0])
