"""The answering chain: a question's trip through the stages, one call each, in order.

    retrieve   search.py (query, follow-ups, correction kept or not) over index.py (Chroma storage; BM25 and the
               nearest chunks over the embeddings held in memory, retrieval.py); answerability.py (a passage from the
               whole index for every term the question names, or a refusal naming it)
    select     windows.py (the sentences the LLM reads, the quotes that stand in for it, the fact asked for and
               the sentence the answer opens with); decisions.py (a choice the passages decide)
    generate   generation.py (the prompt, fresh or its conversation's own; the model's streamed answer)
    check      verification.py (each answer sentence verified against its passage: words, names, numbers,
               polarity; repaired or dropped; the decided choice said first; the fact asked for opening it)
    cite       citations.py (markers completed, sources marked, quotes formatted)

`Assistant.ask_stream` yields `Retrieved` (the passages, before any token), then `Token`s, then one final
`Answer`. What the passages answer by themselves (a decided choice, the sentence with the fact asked for) is the
first token, before the model reads its prompt: on two cores that is seconds earlier. Decisions a small model
cannot be trusted with are made by the stages, never left to the prompt; an unreachable LLM yields the passages,
labelled as such.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from asl_gpt.errors import AslGptError, Fix, InputError, LLMError
from asl_gpt.rag.answerability import answerable, refusal
from asl_gpt.rag.citations import cite
from asl_gpt.rag.conversation import transcript_of
from asl_gpt.rag.correction import Correction, Corrector
from asl_gpt.rag.decisions import Decision
from asl_gpt.rag.generation import LLM, Draft, Writer, conversation_sources, read_texts, request_for
from asl_gpt.rag.index import KnowledgeBase
from asl_gpt.rag.prompts import PROMPT
from asl_gpt.rag.retrieval import Passage
from asl_gpt.rag.scoring import ContextOptions, context_options
from asl_gpt.rag.search import REFUSAL_MARK, Retriever, retrieve, search
from asl_gpt.rag.sources import Source
from asl_gpt.rag.text import choice_opening, cited_sentence
from asl_gpt.rag.transcripts import Transcripts
from asl_gpt.rag.verification import Lead, Verification, check, keeps_refusal
from asl_gpt.rag.windows import Selection, select_sentences

log = logging.getLogger(__name__)


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
    verification: Verification | None = None  # for "answered": sentences checked, supported, repaired (check stage)

    @property
    def cited_sources(self) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.cited)


AnswerEvent = Retrieved | Token | Answer


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
        self.writer = Writer(llm)  # remembers a failed request: the endpoint recovers before the next one
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
        from asl_gpt.rag.llm import is_llm_failure  # lazily: the endpoint loads LangChain's OpenAI client

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
        """Passages for the question, gated in every turn (see `search.search`)."""
        return search(self.kb, self.settings.rag, question, history)[1]

    def find(self, question: str, history=None, raw: str | None = None):
        """The retrieve stage, everything before the LLM reads anything: (question, search query, passages, unknown
        terms, correction). No passages means a refusal (naming `unknown` when there are some). `bench answers
        --no-llm` measures this alone."""
        rag = self.settings.rag
        correction = None
        if raw is not None:
            raw = self.validate(raw)
            correction = self.correct_query(raw) if rag.correct_queries else Correction(raw, raw)
            if not question or question.strip() == raw:
                question = correction.corrected
        question = self.validate(question)
        question, query, passages, correction = retrieve(self.kb, rag, question, history, correction,
                                                         self.correct_query)
        passages, unknown = answerable(self.kb, question, passages, rag.k, self.correct_query, rag.correct_queries)
        return question, query, ([] if unknown else passages), unknown, correction

    def ask_stream(self, question: str, history=None, raw: str | None = None) -> Iterator[AnswerEvent]:
        """Events for one question: Retrieved, Token..., Answer. `raw`: the fingerspelled string the question came
        from, corrected and used unless `question` differs from it (the user edited it). InputError for an empty or
        oversized question, IndexStoreError for the index; an LLM failure ends in an "llm_error" Answer."""
        t0 = time.perf_counter()
        question, query, passages, unknown, correction = self.find(question, history, raw)  # retrieve
        timings = {"retrieval_s": round(time.perf_counter() - t0, 3)}
        if not passages:
            yield Retrieved(question, (), correction)
            yield Answer(question, refusal(unknown, self.kb.stats().documents), (), "not_found",
                         correction=correction, timings=timings, fix=Fix.ADD_DOCUMENTS)
            return
        # Read while still in retrieve: select and generate weigh rare words with the vocabulary; a refusal that the
        # check stage keeps says how many documents were searched, without going back to the index.
        vocab, nothing_found = self.kb.vocabulary(), refusal([], self.kb.document_count())
        selection = select_sentences(passages, query, self.context, vocab, question)  # select: what the LLM reads
        request = request_for(self.transcripts, self.settings.rag, self.context, question, query, passages,
                              selection.windows, history, vocab)  # generate: the prompt
        yield Retrieved(question, request.sources, correction)
        given = conversation_sources(request)
        decision, lead = numbered_lead(selection, given)  # what the passages answer (select's), said at once
        if lead is not None:
            timings["lead_s"] = round(time.perf_counter() - t0, 3)
            yield Token(lead.text + " ")
        # After a lead the model's words are not shown until checked: the answer has begun, and the rest comes
        # verified (a restatement of the lead or a guessed "Yes" never flickers past).
        draft, streamed = Draft(), False
        for piece in self.writer.stream(request, self.context.answer_tokens, timings, draft):
            if lead is None:
                streamed = True
                yield Token(piece)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        if draft.error:
            shown = " ".join(t for t in (lead.text if lead else "", draft.text if streamed else "") if t)
            yield Answer(question, shown, request.sources, "llm_error", error=draft.error, correction=correction,
                         timings=timings)
            return
        record = transcript_of(request, draft.text)  # what a follow-up extends: the model's own words
        checked = check(draft.text, given, read_texts(request), question, self.context, lead, decision)  # check
        if not checked.text and keeps_refusal(draft.text, selection.quotes, correction.raw if correction else question):
            yield Answer(question, nothing_found, (), "not_found", correction=correction, timings=timings,
                         fix=Fix.ADD_DOCUMENTS)
            return
        text, sources, quoted = cite(checked, given, request.sources, selection.quotes)  # cite
        if not streamed:  # nothing of the model's was shown: the final text streams like an answer
            shown = lead.text if lead is not None else ""
            rest = text[len(shown):] if text.startswith(shown) else ""  # after a lead the final renumbered: the
            if rest.strip():                                              # Answer's text replaces what streamed
                yield Token(rest.lstrip())
        if not quoted:  # kept once the answer is final, in a store no stage owns: no stage is entered again
            self.transcripts.put(question, text, record)
        yield Answer(question, text, sources, "answered", correction=correction, timings=timings, quoted=quoted,
                     verification=checked.verification)

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


def numbered_lead(selection: Selection, given: tuple[Source, ...]) -> tuple[Decision | None, Lead | None]:
    """The select stage's decision and fact with the numbers the prompt gave their passages, and the lead they make:
    a decided choice, else the fact sentence (none for an undecided choice: the model's answer comes first)."""
    number = {s.passage: s.n for s in given}
    d = selection.decision
    if d is not None and d.word:
        def n_of(k: int) -> int:
            return number.get(selection.passages[k - 1].text, k) if k else 0
        d = replace(d, n=n_of(d.n), follow_n=n_of(d.follow_n))
        return d, Lead(choice_opening(d.word, d.sentence, d.n, d.follow, d.follow_n))
    if d is None and selection.lead and selection.fact and selection.fact[0] in number:
        return None, Lead(cited_sentence(selection.lead, number[selection.fact[0]]), fact=selection.fact[1])
    return d, None


def build_assistant(settings, kb: KnowledgeBase | None = None, chat_model=None,
                    context: ContextOptions | None = None) -> Assistant:
    """The product's assistant: the knowledge base per settings and the configured (or embedded) LLM.

    `chat_model`, a LangChain chat model, replaces the endpoint (tests pass a fake one).
    """
    from asl_gpt.rag.llm import ChatModelLLM, LLMEndpoint

    kb = kb or KnowledgeBase(settings)
    llm = ChatModelLLM(chat_model) if chat_model is not None else LLMEndpoint(settings.llm, settings.paths.state_dir)
    return Assistant(settings, kb, llm, context)


__all__ = ["REFUSAL_MARK", "Answer", "Assistant", "AnswerEvent", "LLM", "LLMError", "Retrieved", "Retriever", "Source", "Token",
           "build_assistant"]
