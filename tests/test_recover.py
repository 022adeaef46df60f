"""Recovering torch weights from an exported .tflite (asl_gpt.training.recover): a tiny letter-head model is
exported, recovered and must match the .tflite on every signature; BatchNorm calibration keeps the function."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from shared_builds import perturbed  # noqa: E402


def test_calibrate_batchnorm_keeps_the_eval_function():
    from asl_gpt.training.export import sample_inputs
    from asl_gpt.training.recover import calibrate_batchnorm

    m = perturbed("tiny_hand")
    s = sample_inputs(m)
    x, mask = torch.from_numpy(s["inputs"]), torch.from_numpy(s["mask"])
    with torch.no_grad():
        before = m.encode(x, mask)
        calibrate_batchnorm(m, x, mask)
        after = m.encode(x, mask)
    for a, b in zip(before, after):
        assert torch.allclose(a, b, atol=1e-5)
    bn = m.encoder.blocks[0].conv.bn
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))  # statistics of the inputs now


@pytest.mark.slow
def test_recovers_an_exported_tiny_model(tiny_hand_model, tmp_path):
    from asl_gpt.model.fingerspeller import load_checkpoint
    from asl_gpt.training.recover import PARITY_LIMIT, check, main, recover

    m, _ = load_checkpoint(tiny_hand_model.with_suffix(".pt"))  # shared_builds.perturbed("tiny_hand")
    tflite = tiny_hand_model.with_suffix(".tflite")
    got = recover(tflite)
    assert check(got, tflite) < PARITY_LIMIT  # every signature, several random inputs
    want, got_sd = m.state_dict(), got.state_dict()
    # what the converter does not fold comes back exactly
    for k in ("encoder.hand_frame.letters.net.0.weight", "encoder.stem.0.weight", "decoder.embed.weight",
              "encoder.blocks.0.att.q.weight", "encoder.blocks.0.norms.1.weight", "bridge.weight"):
        np.testing.assert_allclose(got_sd[k].numpy(), want[k].numpy(), atol=1e-5, err_msg=k)
    np.testing.assert_allclose(got_sd["encoder.hand_frame.letters.std"].numpy(),
                               want["encoder.hand_frame.letters.std"].numpy(), rtol=1e-5)
    main([str(tflite), str(tmp_path / "back.pt")])  # the command writes a checkpoint training can start from
    back, _ = load_checkpoint(tmp_path / "back.pt")
    assert back.config == m.config
