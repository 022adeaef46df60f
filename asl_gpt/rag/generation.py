"""Generate: the prompt for a question (a fresh one, or its conversation's own extended) and the model's streamed
answer, held back until it has real words; LLM and transport failures end the stream as one line.

The prompt's text is `prompts.py`, a conversation's reuse `conversation.py`, the endpoint `llm.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from asl_gpt.rag.conversation import CHARS_PER_TOKEN, Request, Transcripts, count_prompt, follow_up_request, fresh_request
from asl_gpt.rag.questions import history_messages
from asl_gpt.rag.retrieval import Passage
from asl_gpt.rag.scoring import ContextOptions, window
from asl_gpt.rag.text import substantive

log = logging.getLogger(__name__)


class LLM(Protocol):
    """What generation needs from an LLM: `llm.LLMEndpoint` (the product) and `llm.ChatModelLLM` implement it."""

    kind: str  # "embedded" | "remote" | "in-process"
    model_name: str

    def chat_model(self, max_tokens: int | None = None): ...  # a LangChain chat model, capped at max_tokens
    def check(self, start: bool = True): ...  # -> LLMStatus(ok, endpoint, model, message)
    def recover(self) -> None: ...  # after a failed request: restart what must be restarted
    def restart(self, start: bool = True) -> None: ...
    def describe_failure(self, e: BaseException, partial: bool = False) -> str: ...  # one line
    def close(self) -> None: ...


def request_for(transcripts: Transcripts, rag, ctx: ContextOptions, question: str, query: str,
                passages: list[Passage], windows: list[str], history, vocab) -> Request:
    """The follow-up of a known conversation extends its prompt while it fits `rag.conversation_tokens`, with
    new passages as windows within `rag.follow_up_chars`; any other question (a first one, an unknown history,
    a long conversation) gets a fresh prompt."""
    t = transcripts.find(history)
    if t is not None:
        # no whole sections here: the conversation holds the first answer's context already
        short = [window(p.text, query, ctx, vocab) for p in passages]
        r = follow_up_request(t, question, passages, short, rag.follow_up_chars,
                              lambda p, chars: window(p.text, query, ctx, vocab, chars))
        tokens = sum(len(m.content) for m in r.messages) // CHARS_PER_TOKEN + ctx.answer_tokens
        if tokens <= rag.conversation_tokens:
            return r
        log.info("the conversation would need about %d tokens (rag.conversation_tokens %d): a fresh prompt",
                 tokens, rag.conversation_tokens)
    return fresh_request(question, passages, windows, history_messages(history, rag.history_turns))


@dataclass
class Draft:
    """What the model wrote for one request, filled in while it streams."""

    text: str = ""  # everything it wrote
    shown: bool = False  # tokens were released to the reader
    error: str = ""  # an LLM or transport failure, one line


class Writer:
    """Streams the model's answer; after a failed request the next one first lets the endpoint recover (e.g. the
    embedded server was killed: the adapter restarts it if it must)."""

    def __init__(self, llm: LLM):
        self.llm = llm
        self.failed = False

    def stream(self, request: Request, answer_tokens: int, timings: dict, draft: Draft) -> Iterator[str]:
        """The answer's pieces as they are released. Tokens are held back until the answer has a few real words:
        a degenerate answer (a bare list of citations) is never shown. A failure of the LLM or the way to it ends
        the stream with `draft.error` set; a bug here is logged with its traceback and raised as what it is."""
        from asl_gpt.rag.llm import is_llm_failure  # lazily: the endpoint loads LangChain's OpenAI client

        t1 = time.perf_counter()
        got: list[str] = []
        try:
            if self.failed:
                self.failed = False
                self.llm.recover()
            for chunk in self.llm.chat_model(max_tokens=answer_tokens or None).stream(list(request.messages)):
                count_prompt(chunk, timings)
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if not piece:
                    continue
                timings.setdefault("first_token_s", round(time.perf_counter() - t1, 3))
                got.append(piece)
                if draft.shown:
                    yield piece
                elif substantive("".join(got)):
                    draft.shown = True
                    yield "".join(got)
            timings["tokens"] = len(got)
        except Exception as e:  # noqa: BLE001 - sorted below
            if not is_llm_failure(e):
                log.exception("answering failed with a program error")
                raise
            draft.error = self.llm.describe_failure(e, partial=draft.shown)
            log.warning("LLM failed: %s", draft.error)
            self.failed = True
        finally:
            draft.text = "".join(got)


def conversation_sources(request: Request) -> tuple:
    """Every passage given in the conversation, by number: a follow-up may answer from an earlier turn's [2]."""
    given = {g.source.n: g.source for g in request.given} | {s.n: s for s in request.sources}
    return tuple(given[n] for n in sorted(given))


def read_texts(request: Request) -> list[str]:
    """Everything the model read of the passages: the windows given and the passages themselves."""
    return [g.text for g in request.given] + [s.passage for s in conversation_sources(request)]
