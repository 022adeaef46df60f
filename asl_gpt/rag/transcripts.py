"""The conversations a follow-up can extend, kept between questions: a store no answer stage owns.

The generate stage reads it (`generation.request_for` finds the conversation a history continues) and the chain
writes each answered turn's record once the answer is final (after cite), so a question's trip enters the
stages once, in order (docs/architecture.md). What a record holds and why is `conversation.py`'s business.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from asl_gpt.rag.questions import history_turns
from asl_gpt.rag.sources import Source


@dataclass(frozen=True)
class Given:
    """A passage the model was given in a conversation: the text it read and its source, numbered as given."""

    id: str
    text: str
    source: Source


@dataclass(frozen=True)
class Transcript:
    """A conversation as the LLM saw it: the messages of its last request then its raw answer, and every passage
    given so far (numbered 1, 2, ... in the order given)."""

    messages: tuple  # LangChain messages
    given: tuple[Given, ...]


class Transcripts:
    """The latest conversations (bounded, least recently used dropped), keyed by their last exchange as callers keep
    it (the question answered and the final answer text, as in `Answer`): a history that ends with that exchange
    continues that conversation. The CLI, the app and the benchmarks pass histories; nothing else is needed."""

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict[tuple[str, str], Transcript] = OrderedDict()
        self._lock = threading.Lock()  # one Assistant serves every session of the app

    def put(self, question: str, answer: str, transcript: Transcript) -> None:
        with self._lock:
            self._items[(question.strip(), answer.strip())] = transcript
            self._items.move_to_end((question.strip(), answer.strip()))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def find(self, history) -> Transcript | None:
        turns = history_turns(history)
        if len(turns) < 2 or turns[-2][0] != "human" or turns[-1][0] != "ai":
            return None
        key = (turns[-2][1].strip(), turns[-1][1].strip())
        with self._lock:
            t = self._items.get(key)
            if t is not None:
                self._items.move_to_end(key)
            return t
