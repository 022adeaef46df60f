"""RAG: indexing chunks/s, retrieval latency and hit rate (dense vs hybrid, noisy vs corrected), LLM TTFT and tokens/s.

Indexes the documents into a temporary state folder (the user's index is not touched), then asks the
evaluation questions of `asl_gpt.rag.evaluation` whose right document is known. Tokens/s counts streamed
chunks (llama.cpp streams one token per chunk) after the first, over the time after the first.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--docs", help="folder to index (default: the knowledge folder)")
    p.add_argument("--llm-questions", type=int, default=5, help="questions for the LLM figures (0: skip the LLM)")
    p.add_argument("--llm-model", help="embedded model: a bundled name or a .gguf path (default: settings)")
    p.add_argument("--noise", type=float, default=0.15, help="per-letter error rate of the simulated fingerspelling")
    p.add_argument("--show-answers", action="store_true", help="print each LLM answer")


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def _correction_figures(args, s, kb, cases) -> None:
    """Retrieval of the questions with letter errors, raw and spell-corrected, and the corrector's cost."""
    from asl_gpt.rag.correction import Corrector
    from asl_gpt.rag.evaluation import hit_rate, noisy_cases

    noisy = noisy_cases(cases, args.noise, seed=0, copies=3)
    t = time.perf_counter()
    corrector = Corrector(kb.vocabulary())
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    corrected = [(corrector.correct(q).corrected, d) for q, d in noisy]
    corr_ms = 1000 * (time.perf_counter() - t) / len(noisy)
    for k in (1, s.rag.k):
        raw = hit_rate(lambda q, kk: kb.search(q, k=kk, min_relevance=-1.0), noisy, k)
        fixed = hit_rate(lambda q, kk: kb.search(q, k=kk, min_relevance=-1.0), corrected, k)
        print(f"noisy fingerspelling ({args.noise:.0%} letter errors, {len(noisy)} queries): hit@{k} raw {raw}, "
              f"corrected {fixed}")
    print(f"correction: {corr_ms:.0f} ms per query (lexicon built in {build_s:.1f} s)")


def _llm_figures(args, s, kb) -> None:
    """Answers to the first `--llm-questions` questions: right, grounded, first token and tokens/s."""
    from asl_gpt.rag.chain import Answer, Token, build_assistant
    from asl_gpt.rag.evaluation import QUESTIONS

    assistant = build_assistant(s, kb)
    try:
        t = time.perf_counter()
        status = assistant.check_llm()
        print(f"LLM: {status.model} at {status.endpoint} ({status.message}; started in {time.perf_counter() - t:.1f} s)")
        ttft, rates, right, grounded = [], [], 0, 0
        for q, doc, keywords in QUESTIONS[:args.llm_questions]:
            t0 = time.perf_counter()
            first, n, answer = None, 0, None
            for e in assistant.ask_stream(q):
                if isinstance(e, Token):
                    n += 1
                    first = first or time.perf_counter()
                elif isinstance(e, Answer):
                    answer = e
            end = time.perf_counter()
            if first is not None:
                ttft.append(first - t0)
                if n > 1 and end > first:
                    rates.append((n - 1) / (end - first))
            ok = answer.status == "answered" and any(kw.lower() in answer.text.lower() for kw in keywords)
            right += ok
            grounded += any(doc in Path(src.path).name for src in answer.sources)
            if args.show_answers:
                print(f"  Q: {q}\n  A ({'right' if ok else 'wrong'}, {answer.status}): {answer.text or answer.error}")
        m = len(QUESTIONS[:args.llm_questions])
        print(f"LLM answers: {right}/{m} contain an expected fact; right document retrieved for {grounded}/{m}")
        if ttft:
            print(f"LLM time to first token (retrieval included): median {statistics.median(ttft):.1f} s, "
                  f"max {max(ttft):.1f} s; tokens/s: median {statistics.median(rates) if rates else 0:.1f}")
    finally:
        assistant.close()


def run(args, settings) -> int:
    from asl_gpt.benchmarks import machine_description
    from asl_gpt.rag.evaluation import QUESTIONS, hit_rate
    from asl_gpt.rag.index import KnowledgeBase

    docs = Path(args.docs) if args.docs else settings.paths.knowledge_dir
    print(f"machine: {machine_description()}")
    with tempfile.TemporaryDirectory(prefix="asl-gpt-bench-") as tmp:
        # The model cache stays in the user's state folder: assembling the GGUF is not what is measured.
        paths = dataclasses.replace(settings.paths, state_dir=Path(tmp))
        llm_cfg = settings.llm if not args.llm_model else dataclasses.replace(settings.llm, embedded_model=args.llm_model)
        s = dataclasses.replace(settings, paths=paths, llm=llm_cfg, rag=dataclasses.replace(settings.rag, chroma_url=""))
        kb = KnowledgeBase(s)
        t = time.perf_counter()
        _ = kb.embeddings
        load_s = time.perf_counter() - t
        summary = kb.index([docs])
        print(f"embedding model: {s.rag.embedding_model} (loaded in {load_s:.1f} s)")
        print(f"indexing: {summary.added} files, {summary.chunks_embedded} chunks in {summary.embed_seconds:.1f} s "
              f"= {summary.chunks_embedded / max(summary.embed_seconds, 1e-9):.1f} chunks/s "
              f"(whole run {summary.seconds:.1f} s)")
        cases = [(q, d) for q, d, _ in QUESTIONS]
        if not cases:
            print("no evaluation questions defined: retrieval and LLM figures skipped")
            return 0
        kb.search(cases[0][0])  # warm-up: the first query pays for lazy initialisation
        for hybrid in (False, True):
            lat = []
            for q, _ in cases:
                t = time.perf_counter()
                kb.search(q, hybrid=hybrid)
                lat.append(time.perf_counter() - t)
            name = "hybrid (dense + BM25)" if hybrid else "dense only"
            hr = hit_rate(lambda q, k: kb.search(q, k=k, min_relevance=-1.0, hybrid=hybrid), cases, s.rag.k)
            hr1 = hit_rate(lambda q, k: kb.search(q, k=k, min_relevance=-1.0, hybrid=hybrid), cases, 1)
            print(f"retrieval {name}: median {1000 * statistics.median(lat):.0f} ms, p95 {1000 * _pct(lat, 0.95):.0f} ms "
                  f"over {len(lat)} questions; hit@1 {hr1}, hit@{s.rag.k} {hr}")
        _correction_figures(args, s, kb, cases)
        gated = sum(1 for q, _ in cases if kb.search(q))
        print(f"relevance gate {s.rag.min_relevance}: {gated}/{len(cases)} in-scope questions pass")
        if args.llm_questions <= 0:
            return 0
        _llm_figures(args, s, kb)
    return 0
