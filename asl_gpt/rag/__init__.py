"""Knowledge base and cited answers: the API that `asl-gpt index`, `asl-gpt ask` and the app all call.

Modules, one job each, imports only going down. A question's trip enters each stage once, in this order:

  shared by every stage (pure code over strings)
    lexicon.py       every hand-tuned word list, each named and explained
    correction.py    tokenizing; word-by-word correction of fingerspelled queries
    text.py          sentences, list items, stems, content words, names and numbers, a word's presence
    questions.py     what a question asks: kind of fact, defined term, letter, specific words, follow-ups; the history
    scoring.py       a passage's sentences scored for a question, the window of the best ones (`ContextOptions`)
    sources.py       a passage numbered for the prompt and the citations (`Source`), its path as people read it,
                     an uncited sentence attributed to the passage whose words it uses
  retrieve
    documents.py     loaders (Markdown, text, PDF, HTML) and heading-aware chunking with stable ids
    bundle.py        weights split across registry packages, joined once and checked by sha256
    embeddings.py    the embedders over bundled weights, offline (LangChain `Embeddings`)
    store.py         Chroma, the storage (embedded persistent store, or a `chroma run` server) + the writer lock
    retrieval.py     `SearchIndex`: BM25 and the nearest chunks by cosine over the embeddings held in memory
                     (not Chroma's query); reciprocal rank fusion; `Passage`
    index.py         `KnowledgeBase`: incremental indexing into Chroma, hybrid search over the loaded corpus
    search.py        the query for a question (follow-ups rewritten, corrections kept only when needed)
    answerability.py a passage from the whole index for every specific word the question names, or a refusal
                     naming it
  select
    windows.py       the sentences the LLM reads of each passage (the fact asked for first); the quotes that
                     stand in for the model; the sentence the answer opens with, said before the model writes
    decisions.py     a choice question (yes/no, A or B, which of) decided by the passages
  generate
    prompts.py       the answer prompt
    conversation.py  a follow-up extends its conversation's own prompt, so llama.cpp reads only the new turn
    server.py        the embedded llama.cpp server (xllamacpp) in a child process
    llm.py           the LLM endpoint: the embedded server or any OpenAI-compatible one, one client for both
    generation.py    the request for a question and the model's streamed answer (held back until it has words)
  check
    grounding.py     support and grounding primitives: a sentence's names, numbers and words in one stretch of a passage
    verification.py  every answer sentence verified against its passage (words, names, numbers, polarity), repaired
                     or dropped; a decided choice said first; the asked-for fact opening the answer; `Verification`
                     counts
  cite
    citations.py     markers completed and checked, sources marked, quotes formatted
  transcripts.py     the conversations a follow-up extends: generate reads them, the chain keeps one after cite
  chain.py           `Assistant`: the trip, one call per stage (`ask_stream`)
  evaluation.py      noise model and hit rate, for the benchmark and tests

Public API (import from the modules; nothing heavy is imported by this package):

    from asl_gpt.rag.index import KnowledgeBase, IndexSummary, DocumentInfo, IndexStats
    kb = KnowledgeBase(settings)                      # embeddings load on first use
    kb.index(paths=None, rebuild=False, progress=False) -> IndexSummary
        # paths: files/folders (default settings.paths.knowledge_dir); progress: True (tqdm) or
        # callable(done_chunks, total_chunks). IndexSummary(added, updated, removed, unchanged,
        # chunks_embedded, chunks_deleted, chunks_total, skipped=((path, reason), ...), seconds, embed_seconds)
        # Raises IndexStoreError when locked by another writer, for an empty folder, a corrupt index
        # (message says `asl-gpt index --rebuild`) or an unreachable Chroma server.
    kb.documents() -> list[DocumentInfo(source, path, title, chunks)]
    kb.stats() -> IndexStats(documents, chunks, location, collection, embedding_model)
    kb.is_empty() -> bool
    kb.search(query, k=None, min_relevance=None, hybrid=None) -> list[Passage]   # best first
    kb.passages_with(word, n=1) -> list[Passage]      # chunks holding a word (BM25), for a term the search missed
    kb.close()

    from asl_gpt.rag.chain import build_assistant, Assistant, Retrieved, Token, Answer, Source
    assistant = build_assistant(settings, kb=None, chat_model=None)   # chat_model: tests only
    for event in assistant.ask_stream(question, history=None, raw=None):
        Retrieved(query, sources, correction)   # first: the passages (before any token)
        Token(text)                              # streamed answer pieces
        Answer(question, text, sources, status, error, correction, timings, quoted, fix, verification)   # last
    # history: Gradio-style [{"role": "user"|"assistant", "content": str}, ...] (messages with
    #   `metadata`, e.g. a "Sources" message, are skipped) or (role, content) tuples. A history that ends
    #   with an exchange this assistant answered ({"user": Answer.question}, {"assistant": Answer.text})
    #   continues that conversation's own prompt (the LLM reads only the new turn): its new passages are
    #   numbered on ([4], [5]; a passage given before keeps its number) and Answer.sources lists this
    #   turn's passages, then earlier ones the answer cites. Any other history: a fresh prompt.
    # raw: the fingerspelled string a question came from: it is corrected (Answer.correction keeps
    #   raw and corrected) and the corrected text is asked unless `question` differs from raw.
    # status: "answered"; "not_found" (nothing passed the relevance gate: the LLM was NOT called, text
    #   says so); "llm_error" (error is one line; sources are the retrieved passages, to be shown
    #   labelled as passages, not as an answer; text holds whatever streamed before a failure).
    # quoted: the model's text was unusable (only citation marks, or words/numbers the passages lack), so
    #   text quotes the passages' best sentences, labelled as quotes; status stays "answered".
    # verification: Verification(checked, supported, repaired, added) for "answered": answer sentences checked against
    #   the passages they cite, held, replaced or dropped; passage sentences put in (a choice decided, a fact asked
    #   for). Claim precision is supported / checked. A changed answer says "Corrected against the source".
    # timings: retrieval_s, first_token_s, total_s, tokens; prompt_tokens and cached_tokens are llama.cpp's
    #   own counts of the prompt tokens it read and took from its cache (absent for other servers).
    # Answer.text is final: citations [n] were checked and, where the model gave none, attributed by
    #   code, so the UI should replace the streamed text with it. Source(n, path, title, section,
    #   passage, score, cited); Answer.cited_sources.
    # Raises InputError (empty / longer than rag.max_question_chars, before any work) and IndexStoreError.
    assistant.ask(question, history=None, raw=None) -> Answer     # the same, not streamed
    assistant.validate(question) -> str                          # InputError or the stripped question
    assistant.find(question, history=None, raw=None)             # everything before the LLM:
        # -> (question, search query, passages, unknown terms, correction); no passages = a refusal
    assistant.correct_query(raw) -> Correction(raw, corrected, changes=((raw_word, new_word), ...))
    assistant.check_llm(start=True) -> LLMStatus(ok, endpoint, model, message)
    assistant.close()                                            # stops the embedded LLM server

Settings: `RagConfig` (chroma_url, collection, embedding_model, chunking, k, min_relevance, hybrid,
correct_queries, history_turns, ...) and `LLMConfig` (base_url/api_key/model from OPENAI_BASE_URL,
OPENAI_API_KEY, OPENAI_MODEL; empty base_url = the embedded model) in `asl_gpt.config`.
"""
