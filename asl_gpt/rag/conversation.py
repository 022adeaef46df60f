"""A conversation the embedded LLM's prompt cache can extend.

llama.cpp reuses the longest prefix its slot already holds. A follow-up built like a first question puts new
passages in the system turn (the first message) and the shown, post-processed answers in the history, so nothing
is reused and the whole prompt is read again. A follow-up of a known conversation instead sends exactly the
previous request, the model's raw answer and one new user turn: only that turn is read (docs/answers.md has the
tokens read and the first-token times, before and after).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asl_gpt.rag.prompts import PROMPT, follow_up_turn, format_passages
from asl_gpt.rag.questions import stands_alone
from asl_gpt.rag.retrieval import Passage
from asl_gpt.rag.sources import Source, source_of, to_sources
from asl_gpt.rag.text import sentences
from asl_gpt.rag.transcripts import Given, Transcript, Transcripts  # noqa: F401 - Transcripts: generation's store


def history_for(question: str, history) -> list:
    """The part of `history` (role/content dicts or tuples, as kept by the caller) a question may lean on: none for
    a question that stands alone (earlier, unrelated turns must not steer its search or its prompt), else the turns
    from the latest question that stood alone (the topic it follows)."""
    turns = list(history or [])
    if stands_alone(question):
        return []
    start = 0
    for i, m in enumerate(turns):
        role, content = (m.get("role"), m.get("content")) if isinstance(m, dict) else (m[0], m[1])
        if role in ("user", "human") and isinstance(content, str) and stands_alone(content):
            start = i
    return turns[start:]


@dataclass(frozen=True)
class Request:
    """What one question sends: the messages, the passages given so far, this turn's sources (numbered as given)."""

    messages: tuple
    given: tuple[Given, ...]
    sources: tuple[Source, ...]
    extends: bool  # continues a known conversation (its prompt is a prefix of this one)


# Characters per token for the context budget: English runs at about 4 with Qwen's tokenizer; 3 leaves a margin.
CHARS_PER_TOKEN = 3
MIN_CUT_CHARS = 150  # a follow-up's passage cut shorter than this says too little to be worth its tokens


def _pieces(text: str) -> set[str]:
    return {x.strip(" …") for x in sentences(text.replace("…", "\n"))} - {""}


def fresh_request(question: str, passages: list[Passage], windows: list[str], history: list[tuple[str, str]]) -> Request:
    """A first question's prompt (prompts.py): the passages numbered 1..k in the system turn, the shown history."""
    sources = to_sources(passages)
    messages = PROMPT.format_messages(passages=format_passages(passages, texts=windows), question=question,
                                      history=history)
    given = tuple(Given(p.id, w, s) for p, w, s in zip(passages, windows, sources))
    return Request(tuple(messages), given, sources, False)


def follow_up_request(t: Transcript, question: str, passages: list[Passage], windows: list[str],
                      max_chars: int | None = None, cut=None) -> Request:
    """The conversation's own messages, then a user turn with the passages not given before (numbered on: [4],
    [5], ...) and the question. A passage given before keeps its number when the model has read what this question
    needs of it (its window now is within the texts given then); otherwise it is given again, as a new number.
    The best passage is always in the new turn, repeated under its number when given before: the small model
    answers from the passages beside the question ("what about nicaragua" after a question whose third passage
    was Nicaragua's was answered from the new passage [4], about something else).

    `max_chars`: the new passages' texts in all (the server reads every one before the first token); the best new
    passage is always given, the next ones cut to what is left (`cut(passage, chars)`, e.g. a shorter window) or
    left out when too little is left. A passage left out is no source of this turn: the model never read it."""
    from langchain_core.messages import HumanMessage

    read: dict[str, set[str]] = {}
    latest: dict[str, Given] = {}
    for g in t.given:
        read.setdefault(g.id, set()).update(_pieces(g.text))
        latest[g.id] = g
    sources: list[Source] = []
    new: list[Given] = []
    left = max_chars
    shown: list[Given] = []  # the new turn's passages: the best one (new or repeated), then new ones
    for p, w in zip(passages, windows):
        if p.id in read and _pieces(w) <= read[p.id]:
            sources.append(Source(**{**latest[p.id].source.__dict__, "score": round(p.score, 4), "cited": False}))
            if not shown:
                shown.append(Given(p.id, w, sources[-1]))
                left = None if left is None else left - len(w)
            continue
        if shown and left is not None:
            if len(w) > left and cut is not None and left >= MIN_CUT_CHARS:
                w = cut(p, left)
            if len(w) > left:
                continue
        if left is not None:
            left -= len(w)
        new.append(Given(p.id, w, source_of(len(t.given) + len(new) + 1, p)))
        shown.append(new[-1])
        sources.append(new[-1].source)
    block = "\n\n".join(format_passages([g.source], texts=[g.text], first=g.source.n) for g in shown)
    turn = HumanMessage(follow_up_turn(question, block))
    return Request(t.messages + (turn,), t.given + tuple(new), tuple(sources), True)


_MARKS = re.compile(r"\s*\[\d{1,3}\]")


def _content(text: str) -> list[str]:
    return re.findall(r"\w+", _MARKS.sub("", text).lower())


def rewritten(streamed: str, answer) -> bool:
    """Did the checks change what streamed into `answer` (a quote replacing it, a sentence dropped, a repair)?
    Citation marks the code adds or renumbers, spacing and punctuation change no content. Each surface says so."""
    return bool(streamed.strip()) and _content(streamed) != _content(answer.text)


def transcript_of(request: Request, raw_answer: str) -> Transcript:
    """The conversation after this turn as the LLM saw it: the request, then its raw answer (not the checked one:
    the next request must be a prefix-extension of what the server cached). Kept by the chain once the answer is
    final (transcripts.Transcripts)."""
    from langchain_core.messages import AIMessage

    return Transcript(request.messages + (AIMessage(raw_answer),), request.given)


def count_prompt(chunk, timings: dict) -> None:
    """llama.cpp's own count of the prompt tokens it read and those it took from its cache (in the stream's last
    chunk, `llm.py`): load-independent evidence that a follow-up reused the conversation; and its reading and
    writing rates (tokens/s), which compare two models run under the same load."""
    t = (getattr(chunk, "response_metadata", None) or {}).get("timings")
    if t:
        timings["prompt_tokens"] = t.get("prompt_n")
        timings["cached_tokens"] = t.get("cache_n")
        timings["prompt_per_s"] = t.get("prompt_per_second")
        timings["writing_per_s"] = t.get("predicted_per_second")
