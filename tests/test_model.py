"""The tiny preset: shapes through forward/backward, checkpoints, greedy decoding; preset sizes."""

import pytest

torch = pytest.importorskip("torch")

from asl_gpt.model.fingerspeller import Fingerspeller, greedy_decode, load_checkpoint, save_checkpoint  # noqa: E402
from asl_gpt.model.presets import PRESETS, get_preset  # noqa: E402
from asl_gpt.recognition.tokenizer import Tokenizer  # noqa: E402


def _inputs(c, b=3):
    torch.manual_seed(0)
    x = torch.randn(b, c.window, c.n_features)
    mask = torch.ones(b, c.window)
    mask[1, c.window // 2:] = 0
    tokens = torch.randint(0, 59, (b, c.max_output + 1))
    return x, mask, tokens


def test_tiny_forward_backward_shapes():
    c = get_preset("tiny")
    m = Fingerspeller(c)
    x, mask, tokens = _inputs(c)
    logits, conf, (ctc, ctc_mask) = m(x, mask, tokens, with_ctc=True)
    assert logits.shape == (3, c.max_output + 1, Tokenizer().vocab_size)
    assert conf.shape == (3, 1)
    assert ctc.shape == (3, c.memory_len, Tokenizer().vocab_size) and ctc_mask.shape == (3, c.memory_len)
    (logits.logsumexp(-1).mean() + conf.mean() + ctc.mean()).backward()
    grads = [p.grad for p in m.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    memory, memory_mask, _ = m.encode(x, mask)
    assert memory.shape == (3, c.memory_len, c.dec_dim) and memory_mask.shape == (3, c.memory_len)


def test_time_reduction_halves_memory():
    import dataclasses

    c = dataclasses.replace(get_preset("tiny"), n_blocks=2, reduce_at=1)
    m = Fingerspeller(c).eval()
    x, mask, _ = _inputs(c)
    memory, memory_mask, _ = m.encode(x, mask)
    assert memory.shape[1] == c.window // 2 == c.memory_len
    assert memory_mask[1].sum() == c.window // 4  # half the frames present, halved


def test_padding_does_not_leak():
    """Frames masked out must not change the output."""
    c = get_preset("tiny")
    m = Fingerspeller(c).eval()
    x, mask, tokens = _inputs(c)
    y = x.clone()
    y[1, c.window // 2:] = 100.0
    with torch.no_grad():
        a, ca = m(x, mask, tokens)
        b, cb = m(y, mask, tokens)
    assert torch.allclose(a[1], b[1], atol=1e-5) and torch.allclose(ca, cb, atol=1e-5)


def test_checkpoint_roundtrip(tmp_path):
    c = get_preset("tiny")
    m = Fingerspeller(c).eval()
    save_checkpoint(tmp_path / "m.pt", m, step=7)
    m2, ckpt = load_checkpoint(tmp_path / "m.pt")
    assert ckpt["step"] == 7 and m2.config == c
    x, mask, tokens = _inputs(c)
    with torch.no_grad():
        assert torch.equal(m(x, mask, tokens)[0], m2(x, mask, tokens)[0])


def test_greedy_decode_respects_specials():
    c = get_preset("tiny")
    tok = Tokenizer()
    m = Fingerspeller(c).eval()
    x, mask, _ = _inputs(c)
    ids, conf = greedy_decode(m, x, mask, tok.sos_id, tok.eos_id, len(tok.symbols))
    assert len(ids) == 3 and conf.shape == (3,)
    assert all(0 <= i < len(tok.symbols) for seq in ids for i in seq)
    assert all(len(seq) <= c.max_output for seq in ids)


def test_presets():
    assert set(PRESETS) == {"tiny", "tiny_hand", "default", "columns", "competition"}
    assert get_preset("default").features == "signing_hand" and get_preset("default").letter_head > 0
    comp = get_preset("competition")
    assert (comp.n_features, comp.window, comp.dim, comp.n_blocks, comp.n_heads, comp.conv_kernel, comp.max_output) == \
        (390, 384, 208, 14, 4, 51, 31)
    assert get_preset("default").dec_layers == 2
    with pytest.raises(ValueError):
        get_preset("huge")
