"""The embedded LLM answers the same question the same way every time (issue 25 item 4): greedy decoding with a
fixed seed (llm.temperature, llm.seed), whether the prompt comes from llama.cpp's cache or is read afresh.

Slow: it starts the real bundled model. Skipped where the model's packages are not installed.
"""

from __future__ import annotations

import importlib.util

import pytest

from asl_gpt.config import load_settings
from asl_gpt.rag.bundle import BUNDLED
from asl_gpt.rag.llm import LLMEndpoint

pytestmark = pytest.mark.slow

PASSAGE = ("[1] ASL Fingerspelling: Letters M to R > How to sign the letter M in ASL\n"
           "The ASL letter M is a closed hand in which three fingers fold over the thumb. The thumb is tucked "
           "under the three folded fingers, with the thumb tip poking out between the ring finger and the pinky.")
MESSAGES = [("system", "Answer the question from the passages only, in two sentences, citing them as [n]."),
            ("user", f"Passages:\n{PASSAGE}\n\nQuestion: how do i sign the letter m")]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    settings = load_settings(env={}, paths={"state_dir": tmp_path_factory.mktemp("state")})
    spec = BUNDLED[settings.llm.embedded_model]
    missing = [m for m, _ in spec.parts if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the bundled model {spec.name} is not installed ({spec.install})")
    llm = LLMEndpoint(settings.llm, settings.paths.state_dir)
    yield llm
    llm.close()


def _answer(llm: LLMEndpoint) -> str:
    return "".join(chunk.content for chunk in llm.chat_model(max_tokens=60).stream(MESSAGES))


def test_the_same_question_gets_the_same_answer(endpoint):
    first = _answer(endpoint)
    assert first.strip()
    assert _answer(endpoint) == first  # its prompt now comes from llama.cpp's cache
    endpoint.restart()  # a fresh server: the prompt read anew
    assert _answer(endpoint) == first
