"""Stage 1 of the signing-hand model: the per-frame letter head, fitted on real static handshapes."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the training extra (torch) fits the letter head")


def test_perturbed_hands_keep_their_letter_shape():
    from asl_gpt.recognition import features
    from asl_gpt.training.letters import LetterHeadOptions, perturb_hands

    rng = np.random.default_rng(0)
    hand = np.zeros((1, 21, 3))
    for f, x in enumerate(np.linspace(-0.4, 0.4, 5)):
        for j in range(4):
            hand[0, 1 + 4 * f + j] = (x * (1 + 0.2 * j), -(0.6 + 0.3 * j), 0.0)
    quiet = LetterHeadOptions(bone_sd=0.0, curl_deg=0.0, turn_deg=(40.0, 0.0, 0.0), aspect=(1.0, 1.0), noise=0.0)
    turned = perturb_hands(np.repeat(hand, 4, 0), rng, quiet)
    inv = features.hand_invariants(turned)
    np.testing.assert_allclose(inv[:, :60], np.repeat(features.hand_invariants(hand)[:, :60], 4, 0), atol=1e-4)
    moved = perturb_hands(np.repeat(hand, 4, 0), rng)  # the default perturbations do change the hand
    assert np.abs(moved - hand).max() > 0.01


@pytest.mark.slow
def test_letter_head_reads_a_held_out_signer(data_dir):
    """Fitted briefly on four signers, it reads the fifth (Massey hand4) far above chance (1/26)."""
    from asl_gpt.model.fingerspeller import LetterHead
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank
    from asl_gpt.training.letters import LetterHeadOptions, fit_letter_head, letter_accuracy

    torch.manual_seed(0)
    bank = load_bank(data_dir)
    head = LetterHead(64, 26)
    fit_letter_head(head, bank.without([HELD_OUT_SIGNER]), LetterHeadOptions(steps=300), progress=False)
    acc = letter_accuracy(head, bank.only([HELD_OUT_SIGNER]))
    assert acc["accuracy"] > 0.6 and set(acc["per_signer"]) == {HELD_OUT_SIGNER}
