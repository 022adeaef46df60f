"""The answering chain: (correct) → retrieve → gate → prompt | chat model (streaming) → Answer with sources.

`Assistant.ask_stream` yields `Retrieved` (the passages, before any token), then `Token`s, then one final
`Answer`. Decisions a small model cannot be trusted with are made here:
- the relevance gate applies in every turn: a follow-up is searched on its own words, and rewritten with the
  previous answered question's topic words when those find nothing sure or it leans on it (a pronoun, "what
  about …"); the rewrite is kept only when its passages hold the follow-up's own topic words; when no
  passage reaches the threshold the LLM is not called at all;
- a specific word of the question (a name, a made-up term) that no passage holds is fetched from the index,
  or the question is refused naming it (answerability.py); answer sentences no passage holds are dropped;
- spelling correction is only kept when it finds passages the uncorrected words do not (and a typed
  question that finds nothing is tried corrected), so it never turns an answerable question into a refusal;
- the LLM reads sentence windows of the passages (context.py), not whole chunks: a shorter prompt;
- a follow-up of a conversation this assistant answered extends that conversation's own prompt (conversation.py):
  the previous request, the model's raw answer, then only the new passages (numbered on) and the question, so
  the LLM server reads only the new turn (llama.cpp's prompt cache); citations may name any passage given;
- citations are numbered by the code (passage n is [n]), markers that point at no passage are removed;
- an answer that is only citation marks, or whose words or numbers the passages do not contain, is
  replaced by the passages' best sentences, labelled as quotes (`Answer.quoted`);
- an unreachable LLM yields the passages, labelled as such; only LLM and transport failures read so
  (`llm.is_llm_failure`): a bug here is logged with its traceback and raised as what it is.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from asl_gpt.errors import AslGptError, Fix, InputError, LLMError
from asl_gpt.rag.answerability import GENERIC, MIN_COMMON, acronyms, drop_ungrounded, missing_terms, present
from asl_gpt.rag.context import (ContextOptions, Source, best_sentences, context_options, finalize_citations,
                                  quoted_answer, substantive, supported, window)
from asl_gpt.rag.conversation import (CHARS_PER_TOKEN, Request, Transcript, Transcripts, ai_message, count_prompt,
                                      follow_up_request, fresh_request, history_turns, shown_sources)
from asl_gpt.rag.correction import STOPWORDS, Correction, Corrector, tokenize, weighted_distance
from asl_gpt.rag.index import IndexStats, KnowledgeBase
from asl_gpt.rag.prompts import PROMPT
from asl_gpt.rag.retrieval import Passage

log = logging.getLogger(__name__)


class LLM(Protocol):
    """What the chain needs from an LLM: `llm.LLMEndpoint` (the product) and `llm.ChatModelLLM` implement it."""

    kind: str  # "embedded" | "remote" | "in-process"
    model_name: str

    def chat_model(self, max_tokens: int | None = None): ...  # a LangChain chat model, capped at max_tokens
    def check(self, start: bool = True): ...  # -> LLMStatus(ok, endpoint, model, message)
    def recover(self) -> None: ...  # after a failed request: restart what must be restarted
    def restart(self, start: bool = True) -> None: ...
    def describe_failure(self, e: BaseException, partial: bool = False) -> str: ...  # one line
    def close(self) -> None: ...


class Retriever(Protocol):
    """What the chain needs from a knowledge base: `index.KnowledgeBase` (the product) implements it."""

    def search(self, query: str) -> list[Passage]: ...  # the passages that pass the relevance gate, best first
    def vocabulary(self) -> Counter: ...  # indexed word -> count: spelling correction and rare-word weights
    def word_pairs(self) -> Counter: ...  # adjacent indexed word pairs: phrase correction
    def acronyms(self) -> frozenset[str]: ...  # abbreviations the documents introduce ("rid"): names, however typed
    def passages_with(self, word: str, n: int = 1) -> list[Passage]: ...  # the best chunks holding `word`
    def stats(self) -> IndexStats: ...  # a refusal names how many documents were searched
    def close(self) -> None: ...


@dataclass(frozen=True)
class Retrieved:
    """First event: what will be given to the LLM (the UI can show it while the answer streams)."""

    query: str
    sources: tuple[Source, ...]
    correction: Correction | None = None


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Answer:
    question: str  # what was answered (after correction)
    text: str  # the answer; for "not_found" an explanation; for "llm_error" what streamed before the failure
    sources: tuple[Source, ...]
    status: str = "answered"  # "answered" | "not_found" | "llm_error"
    error: str = ""  # the LLM failure, one line, when status == "llm_error"
    correction: Correction | None = None  # set when the question came from fingerspelling (raw kept there)
    timings: dict = field(default_factory=dict)  # retrieval_s, first_token_s, total_s, tokens
    quoted: bool = False  # the text quotes the passages because the model's own answer was unusable
    fix: Fix | None = None  # for "not_found": what the user can do, which each surface words (errors.advised)

    @property
    def cited_sources(self) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.cited)


Event = Retrieved | Token | Answer


def _history_messages(history, turns: int) -> list[tuple[str, str]]:
    """(role, content) pairs from Gradio-style dicts or (role, content) tuples; source messages skipped;
    the last `turns` exchanges, each message cut at 800 characters."""
    out = [(role, content if len(content) <= 800 else content[:800] + " …") for role, content in history_turns(history)]
    return out[-2 * turns:] if turns > 0 else []


# Words by which a question points back at the conversation instead of naming its topic.
FOLLOW_UP_WORDS = frozenset("it its they them their theirs that this those these he she his her him one ones "
                            "same there".split())
_FOLLOW_UP_OPENERS = ("and ", "what about", "how about", "also", "so ", "then ", "but ")


def topic_words(text: str) -> list[str]:
    """The words of a question that say what it is about, in order, once each."""
    out: list[str] = []
    for w in tokenize(text):
        if w not in STOPWORDS and w not in FOLLOW_UP_WORDS and w not in GENERIC and len(w) > 1 and w not in out:
            out.append(w)
    return out


def leans_on_history(question: str) -> bool:
    """Does the question need the previous one to be understood? ("when did it open", "what about J",
    "why") A question that names its own topic ("what is the capital of France") does not: it is
    searched, and gated, on its own words."""
    words = tokenize(question)
    topic = [w for w in words if w not in STOPWORDS and w not in FOLLOW_UP_WORDS]
    return (bool(set(words) & FOLLOW_UP_WORDS) or question.strip().lower().startswith(_FOLLOW_UP_OPENERS)
            or len(topic) <= 1)


def rewrite_follow_up(question: str, previous: list[str]) -> str:
    """A standalone search query for a follow-up: its own words, then the topic words of the latest previous
    question it lacks ("how fast should i go" after "what is fingerspelling" -> "how fast should i go
    fingerspelling"); the question before that too when the latest one leaned on it as well."""
    own = set(tokenize(question))
    carried: list[str] = []
    for prev in reversed(previous):
        carried += [w for w in topic_words(prev) if w not in own and w not in carried]
        if not leans_on_history(prev):
            break
    return f"{question} {' '.join(carried)}".strip() if carried else question


REFUSAL_MARK = "so I will not guess"  # in every refusal's text: a refused turn gives a follow-up no topic


def _answered_questions(history, turns: int) -> list[str]:
    """The user's previous questions whose answer was not a refusal, oldest first."""
    msgs = _history_messages(history, turns)
    out = []
    for i, (role, content) in enumerate(msgs):
        if role != "human":
            continue
        reply = msgs[i + 1][1] if i + 1 < len(msgs) and msgs[i + 1][0] == "ai" else ""
        if REFUSAL_MARK not in reply:
            out.append(content)
    return out


def _quote_terms(terms: list[str]) -> str:
    quoted = [f'"{t}"' for t in terms]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


class Assistant:
    """Answers questions from the knowledge base. The CLI and the app both use this."""

    def __init__(self, settings, kb: Retriever, llm: LLM, context: ContextOptions | None = None):
        """`kb`: the product's `KnowledgeBase`; `llm`: its `LLMEndpoint`, or a `ChatModelLLM` around a LangChain
        chat model; `context`: by default from the settings."""
        self.settings = settings
        self.kb = kb
        self.llm = llm
        self.context = context or context_options(settings)
        self._corrector: tuple[int, Corrector] | None = None
        self._llm_failed = False  # the last request failed: check the LLM before the next one
        self.transcripts = Transcripts()  # conversations a follow-up extends (llama.cpp's cache reused)

    # -- pieces the UI may call on their own --------------------------------------------------------
    def correct_query(self, raw: str) -> Correction:
        """The fingerspelled `raw` string corrected word by word against the index vocabulary + English."""
        vocab = self.kb.vocabulary()
        key = id(vocab)
        if self._corrector is None or self._corrector[0] != key:
            self._corrector = (key, Corrector(vocab, pairs=self.kb.word_pairs()))
        return self._corrector[1].correct(raw)

    def check_llm(self, start: bool = True):
        return self.llm.check(start=start)

    def warm_up(self) -> None:
        """Start the LLM and run one token through the answering prompt: its weights are paged in and the
        prompt's fixed prefix is cached, so the first question is answered as quickly as the next. One search
        and one correction load the search side (embeddings, keyword index, word lists: 6 s measured on the
        first question before this)."""
        try:
            self.kb.search("what is fingerspelling")
            if self.settings.rag.correct_queries:
                self.correct_query("what is fingerspelling")
        except AslGptError as e:  # an empty or broken index: the first question reports it
            log.info("search warm-up failed: %s", e)
        self.check_llm(start=True)
        from asl_gpt.rag.llm import is_llm_failure

        try:
            (PROMPT | self.llm.chat_model(max_tokens=1)).invoke({"passages": "", "question": "hello", "history": []})
        except Exception as e:  # noqa: BLE001 - best effort: the first question reports a real failure
            if is_llm_failure(e):
                log.info("LLM warm-up failed: %s", e)
            else:
                log.exception("LLM warm-up failed with a program error")

    def validate(self, question: str) -> str:
        q = (question or "").strip()
        if not q:
            raise InputError("the question is empty")
        limit = self.settings.rag.max_question_chars
        if len(q) > limit:
            raise InputError(f"the question is {len(q)} characters long; the limit is {limit}",
                             setting="rag.max_question_chars")
        return q

    def retrieve(self, question: str, history=None) -> list[Passage]:
        """Passages for the question, gated in every turn (see `search`)."""
        return self.search(question, history)[1]

    def search(self, question: str, history=None) -> tuple[str, list[Passage]]:
        """(the query searched, its passages), gated in every turn.

        The question is searched on its own words first. A follow-up whose own words find nothing confident
        (no passage reaches `rag.confident_relevance`), or that leans on the previous question (a pronoun,
        "what about ..."), is searched again rewritten into a standalone query (`rewrite_follow_up`). The
        rewrite is kept only when its passages hold the follow-up's own topic words (or it has none of its
        own: "and why"), so "what is the capital of France" after a question about the alphabet is still
        refused like a first question: the alphabet passages the rewrite finds say nothing of France.
        """
        k = self.settings.rag.k
        passages = self.kb.search(question)
        prev = _answered_questions(history, self.settings.rag.history_turns)
        leans = leans_on_history(question)
        confident = bool(passages) and passages[0].score >= self.settings.rag.confident_relevance
        if not prev or (confident and not leans):
            return question, passages
        query = rewrite_follow_up(question, prev)
        if query == question:
            return question, passages
        found = self.kb.search(query)
        own = topic_words(question)
        words = set(tokenize(" ".join(f"{p.title} {p.section} {p.text}" for p in found)))
        # every own topic word must be there: "capital" alone is in the letters document, "france" is not
        if not found or (own and not leans and not all(present(w, words) for w in own)):
            return question, passages
        log.info("follow-up %r searched as %r", question[:80], query[:120])
        # Passages of its own search that hold its own topic words ("what about nicaragua") stay in front.
        own_hits = [p for p in passages if own and any(
            present(w, set(tokenize(f"{p.title} {p.section} {p.text}"))) for w in own)]
        merged: list[Passage] = []
        for p in own_hits + found + passages:
            if p.id not in {m.id for m in merged}:
                merged.append(p)
        return query, merged[:k]

    def _retrieve_corrected(self, question: str, history, correction: Correction | None):
        """(question, search query, passages, correction): a correction is kept only when it is needed to find
        passages.

        A signed question is searched corrected; if that finds nothing but the words as signed do, the
        signed words are used. A typed question that finds nothing is tried corrected (typos).
        """
        query, passages = self.search(question, history)
        if correction is not None and correction.changed and not passages and question == correction.corrected:
            q2, as_signed = self.search(correction.raw, history)
            if as_signed:
                return correction.raw, q2, as_signed, Correction(correction.raw, correction.raw)
        if correction is None and not passages and self.settings.rag.correct_queries:
            c = self.correct_query(question)
            if c.changed:
                q2, fixed = self.search(c.corrected, history)
                if fixed:
                    return c.corrected, q2, fixed, c
        return question, query, passages, correction

    def in_index(self, term: str) -> str | None:
        """The indexed word `term` stands for (itself, or its spelling correction), or None."""
        vocab = self.kb.vocabulary()
        if term in vocab:
            return term
        if len(term) >= 5:  # an inflected form: "nicaragua" for "nicaraguan", "classifier" for "classifiers"
            forms = [w for w in vocab if w.startswith(term) or (len(w) >= 5 and term.startswith(w))]
            if forms:
                return max(forms, key=lambda w: vocab[w])
        fixed = self.correct_query(term).corrected if self.settings.rag.correct_queries else term
        # One word ("lightbulb" split into "light bulb" is not in it), one cheap edit away: a made-up "glorp" is
        # not a misspelt "group".
        close = weighted_distance(term, fixed, 1.0) <= (1.0 if len(term) <= 6 else 1.5)
        return fixed if fixed in vocab and close else None

    def answerable(self, question: str, passages: list[Passage]) -> tuple[list[Passage], list[str]]:
        """(passages, unknown terms). A specific word of the question (a name, a term; see answerability.py) that
        no passage holds is looked up in the whole index: found, its best chunk joins the passages (in place of
        the last one); not found, it is returned and the question is refused naming it. A misspelt common word
        is not a term the index lacks."""
        from asl_gpt.words import english_frequencies

        english = english_frequencies()
        texts = [f"{p.title} {p.section} {p.text}" for p in passages]
        unknown: list[str] = []
        k = self.settings.rag.k
        known = self.kb.acronyms()
        caps = acronyms(question, known)
        for term in missing_terms(question, texts, english, known):
            word = self.in_index(term)
            if word is None:
                fixed = self.correct_query(term).corrected
                if fixed != term and english.get(fixed, 0) >= MIN_COMMON and weighted_distance(term, fixed, 1.0) <= 1.0:
                    continue  # "yuo", "wat": a typo of a common word, not a missing topic
                unknown.append(term)
                continue
            # Without passages, only a word that is no English word (a name, a term) may bring one back: a
            # common one ("france" in a history passage) would make an out-of-scope question look answerable.
            if not passages and ((english.get(term, 0) > 0 and term not in caps) or word != term):
                continue
            seen = {p.id for p in passages}
            extra = [p for p in self.kb.passages_with(word, 1) if p.id not in seen]
            if extra:
                log.info("%r is in the index but not in the passages found: adding %s", term, extra[0].source)
                passages = (passages[:k - 1] if len(passages) >= k else passages) + extra
        return passages, unknown

    def find(self, question: str, history=None, raw: str | None = None):
        """Everything before the LLM: (question, search query, passages, unknown terms, correction). No passages
        means a refusal (naming `unknown` when there are some). `bench answers --no-llm` measures this alone."""
        correction = None
        if raw is not None:
            raw = self.validate(raw)
            correction = self.correct_query(raw) if self.settings.rag.correct_queries else Correction(raw, raw)
            if not question or question.strip() == raw:
                question = correction.corrected
        question = self.validate(question)
        question, query, passages, correction = self._retrieve_corrected(question, history, correction)
        passages, unknown = self.answerable(question, passages)
        return question, query, ([] if unknown else passages), unknown, correction

    # -- the chain --------------------------------------------------------------------------------
    def _request(self, question: str, query: str, passages: list[Passage], windows: list[str], history) -> Request:
        """The follow-up of a known conversation extends its prompt while it fits `rag.conversation_tokens`, with
        new passages as windows within `rag.follow_up_chars`; any other question (a first one, an unknown history,
        a long conversation) gets a fresh prompt."""
        t = self.transcripts.find(history)
        if t is not None:
            vocab = self.kb.vocabulary()
            ctx = self.context
            # no whole sections here: the conversation holds the first answer's context already
            short = [window(p.text, query, ctx, vocab) for p in passages]
            r = follow_up_request(t, question, passages, short, self.settings.rag.follow_up_chars,
                                  lambda p, chars: window(p.text, query, ctx, vocab, chars))
            tokens = sum(len(m.content) for m in r.messages) // CHARS_PER_TOKEN + self.context.answer_tokens
            if tokens <= self.settings.rag.conversation_tokens:
                return r
            log.info("the conversation would need about %d tokens (rag.conversation_tokens %d): a fresh prompt",
                     tokens, self.settings.rag.conversation_tokens)
        return fresh_request(question, passages, windows, _history_messages(history, self.settings.rag.history_turns))

    def ask_stream(self, question: str, history=None, raw: str | None = None) -> Iterator[Event]:
        """Events for one question: Retrieved, Token..., Answer.

        `raw`: the fingerspelled string the question came from; it is corrected, and the correction is used
        unless `question` is given and differs from `raw` (the user edited it). Raises InputError for an
        empty or oversized question and IndexError_ for index problems; LLM failures end in an Answer
        with status "llm_error" that carries the passages.
        """
        t0 = time.perf_counter()
        question, query, passages, unknown, correction = self.find(question, history, raw)
        timings = {"retrieval_s": round(time.perf_counter() - t0, 3)}
        vocab = self.kb.vocabulary()
        # The best passage may be a whole short section; the others are windows. Sentences are chosen for the
        # query searched (a follow-up rewritten with its topic) and the kind of fact asked for.
        windows = [window(p.text, query, self.context, vocab, self.context.first_chars if i == 0 else None)
                   for i, p in enumerate(passages)]
        request = self._request(question, query, passages, windows, history) if passages else None
        sources = request.sources if request is not None else ()  # numbered as given in the conversation
        yield Retrieved(question, sources, correction)
        if not passages:
            n = self.kb.stats().documents
            what = (f"The knowledge base does not mention {_quote_terms(unknown)}: I could not find anything about "
                    "it" if unknown else "I could not find anything about that in the knowledge base")
            text = f"{what} ({n} documents indexed), {REFUSAL_MARK}."
            yield Answer(question, text, (), "not_found", correction=correction, timings=timings,
                         fix=Fix.ADD_DOCUMENTS)
            return
        parts: list[str] = []  # the text shown so far (tokens yielded)
        t1 = time.perf_counter()
        got: list[str] = []
        from asl_gpt.rag.llm import is_llm_failure

        try:
            if self._llm_failed:  # e.g. the embedded server was killed: the adapter restarts it if it must
                self._llm_failed = False
                self.llm.recover()
            model = self.llm.chat_model(max_tokens=self.context.answer_tokens or None)
            # Tokens are held back until the answer has a few real words: a degenerate answer (a bare
            # list of citations) is never shown; the passages' best sentences replace it below.
            released = False
            for chunk in model.stream(list(request.messages)):
                count_prompt(chunk, timings)
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if not piece:
                    continue
                timings.setdefault("first_token_s", round(time.perf_counter() - t1, 3))
                got.append(piece)
                if released:
                    parts.append(piece)
                    yield Token(piece)
                elif substantive("".join(got)):
                    released = True
                    parts.extend(got)
                    yield Token("".join(got))
            timings["tokens"] = len(got)
        except Exception as e:  # noqa: BLE001 - sorted below
            if not is_llm_failure(e):  # a bug here, not the LLM: it surfaces as what it is
                log.exception("answering %r failed with a program error", question[:80])
                raise
            # The LLM or the way to it failed: one line, and the passages found.
            msg = self.llm.describe_failure(e, partial=bool(parts))
            log.warning("LLM failed: %s", msg)
            self._llm_failed = True
            timings["total_s"] = round(time.perf_counter() - t0, 3)
            yield Answer(question, "".join(parts), sources, "llm_error", error=msg, correction=correction,
                         timings=timings)
            return
        text = "".join(got)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        texts = [s.passage for s in sources]  # the passages of this turn the model was given
        # Every passage given in the conversation may be cited (a follow-up may answer from an earlier turn's [2]).
        given = {g.source.n: g.source for g in request.given} | {s.n: s for s in sources}
        everything = tuple(given[n] for n in sorted(given))
        read = [g.text for g in request.given] + [s.passage for s in everything]
        # A short answer ("1817 [1].") is usable once it is over; it was held back while it streamed.
        # A sentence whose names, numbers or rare words no stretch of its cited passage holds is dropped first;
        # what is left must still be supported as a whole, or the passages are quoted instead.
        final, _ = finalize_citations(text, everything)
        kept, dropped = drop_ungrounded(final, {s.n: f"{s.title}. {s.section}. {s.passage}" for s in everything})
        if dropped:
            log.info("dropped %d answer sentence(s) no passage holds", dropped)
            timings["dropped_sentences"] = dropped
        if substantive(kept, min_words=1) and supported(kept, read, question, self.context):
            final, final_sources = finalize_citations(kept, everything)
            if not parts:
                yield Token(final)
            self.transcripts.put(question, final, Transcript(request.messages + (ai_message(text),), request.given))
            yield Answer(question, final, shown_sources(sources, final_sources), "answered", correction=correction,
                         timings=timings)
            return
        log.info("unusable answer (%r): quoting the passages instead", text.strip()[:80])
        picks = best_sentences(query, texts, self.context.quote_sentences, vocab, self.context)
        cited = {sources[pi].n for pi, _ in picks}
        sources = tuple(Source(**{**s.__dict__, "cited": s.n in cited}) for s in sources)
        quotes = quoted_answer([(sources[pi].n - 1, q) for pi, q in picks])  # cited [n] as numbered in the turn
        if not parts:  # nothing of the model's was shown: the quotes stream like an answer
            yield Token(quotes)
        yield Answer(question, quotes, sources, "answered", correction=correction, timings=timings,
                     quoted=True)

    def ask(self, question: str, history=None, raw: str | None = None) -> Answer:
        """The final Answer of `ask_stream` (no streaming)."""
        answer = None
        for event in self.ask_stream(question, history, raw):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def close(self) -> None:
        self.llm.close()
        self.kb.close()


def build_assistant(settings, kb: KnowledgeBase | None = None, chat_model=None,
                    context: ContextOptions | None = None) -> Assistant:
    """The product's assistant: the knowledge base per settings and the configured (or embedded) LLM.

    `chat_model`, a LangChain chat model, replaces the endpoint (tests pass a fake one).
    """
    from asl_gpt.rag.llm import ChatModelLLM, LLMEndpoint

    kb = kb or KnowledgeBase(settings)
    llm = ChatModelLLM(chat_model) if chat_model is not None else LLMEndpoint(settings.llm, settings.paths.state_dir)
    return Assistant(settings, kb, llm, context)


__all__ = ["Answer", "Assistant", "Event", "LLM", "LLMError", "Retrieved", "Retriever", "Source", "Token", "build_assistant"]
