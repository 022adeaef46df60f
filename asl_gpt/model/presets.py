"""Named model sizes as frozen dataclasses. No torch here, so the CLI can list presets cheaply.

`tiny` and `tiny_hand` are for tests (seconds on a CPU); `default` is what ships (real time on a
2-core laptop): the signing hand's invariant features, a per-frame letter head fitted on real
handshapes, a 3-block Squeezeformer; `columns` is the earlier default on normalised landmark columns;
`competition` is the 1st-place size (14 blocks at dim 208, 4 heads, conv kernel 51, 130 landmarks /
390 columns, 384 frames, 31 characters) for users with a GPU and the competition's data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from asl_gpt.recognition import features
from asl_gpt.landmarks import layout
from asl_gpt.recognition.tokenizer import Tokenizer

# The 1st-place solution's 130 landmarks (kaggle-format/inference_args.json, Apache-2.0): 40 lip and
# 36 eye/nose face points, both hands, pose 11..22. Columns are all x, then all y, then all z.
_FACE_76 = (0, 61, 185, 40, 39, 37, 267, 269, 270, 409, 291, 146, 91, 181, 84, 17, 314, 405, 321, 375,
            78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
            1, 2, 98, 327, 33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
            263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
_POSE_12 = (12, 14, 16, 18, 20, 22, 11, 13, 15, 17, 19, 21)


def competition_columns() -> tuple[str, ...]:
    pts = ([f"face_{i}" for i in _FACE_76[:40]] + [f"left_hand_{i}" for i in range(21)]
           + [f"right_hand_{i}" for i in range(21)] + [f"face_{i}" for i in _FACE_76[40:]]
           + [f"pose_{i}" for i in _POSE_12])
    return tuple(f"{a}_{p}" for a in layout.AXES for p in pts)


COLUMN_SETS = {
    "hands": features.hand_columns,  # 42 points, 126 columns
    "hands_pose": features.hands_pose_columns,  # 54 points, 162 columns
    "competition": competition_columns,  # 130 points, 390 columns
}


@dataclass(frozen=True)
class ModelConfig:
    column_set: str = "hands_pose"  # key of COLUMN_SETS: which landmark columns the model reads
    features: str = features.COLUMNS  # input kind (asl_gpt.recognition.features): normalised columns or the signing hand
    letter_head: int = 0  # hidden width of the per-frame letter head on the hand invariants (0: none)
    n_letters: int = 26  # classes of the letter head (a..z)
    window: int = 128  # fixed input frames (longer segments are resampled, shorter padded)
    dim: int = 96  # encoder width
    n_blocks: int = 5  # Squeezeformer blocks
    n_heads: int = 4  # attention heads in encoder and decoder
    conv_kernel: int = 15  # depthwise conv kernel (frames)
    hand_frame: bool = True  # also feed each hand in its own frame (wrist origin, palm-length units)
    reduce_at: int = -1  # halve the time axis after this many blocks (Squeezeformer's time reduction); -1 = never
    ffn_mult: int = 4  # feed-forward hidden = ffn_mult * dim
    dec_dim: int = 96  # decoder width
    dec_layers: int = 2  # Transformer decoder layers
    max_output: int = 31  # most characters decoded (the competition's limit)
    dropout: float = 0.1  # dropout inside blocks while training
    vocab_size: int = field(default_factory=lambda: Tokenizer().vocab_size)  # 59 symbols + PAD/SOS/EOS

    @property
    def memory_len(self) -> int:
        """S: encoder output frames (the window, halved once if reduce_at >= 0)."""
        return self.window // 2 if 0 <= self.reduce_at < self.n_blocks else self.window

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMN_SETS[self.column_set]()

    @property
    def n_features(self) -> int:
        return self.spec.n_features

    @property
    def spec(self) -> features.FeatureSpec:
        return features.FeatureSpec(self.columns, self.window, self.features)

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(window=32, dim=32, n_blocks=1, n_heads=2, conv_kernel=5, ffn_mult=2, dec_dim=32,
                        dec_layers=2, max_output=15, dropout=0.0),
    # The previous default: normalised landmark columns (it read real signers poorly: MODEL_CARD.md).
    "columns": ModelConfig(window=128, dim=96, n_blocks=5, n_heads=4, conv_kernel=15, reduce_at=1, ffn_mult=3,
                           dec_dim=96, dec_layers=2, max_output=31),
    # The shipped model: signer-invariant signing-hand features, read per frame by a letter head
    # trained on real static handshapes, then a small Squeezeformer over the letter evidence.
    "default": ModelConfig(features=features.SIGNING_HAND, letter_head=256, hand_frame=False, window=128, dim=96,
                        n_blocks=3, n_heads=4, conv_kernel=15, reduce_at=1, ffn_mult=3, dec_dim=96, dec_layers=2,
                        max_output=31),
    "tiny_hand": ModelConfig(features=features.SIGNING_HAND, letter_head=32, hand_frame=False, window=32, dim=32,
                             n_blocks=1, n_heads=2, conv_kernel=5, ffn_mult=2, dec_dim=32, dec_layers=2,
                             max_output=15, dropout=0.0),
    "competition": ModelConfig(column_set="competition", window=384, dim=208, n_blocks=14, n_heads=4,
                               conv_kernel=51, dec_dim=208, dec_layers=2, max_output=31),
}


def get_preset(name: str) -> ModelConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r} (choose from {', '.join(PRESETS)})") from None
