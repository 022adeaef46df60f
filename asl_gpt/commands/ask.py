"""`asl-gpt ask "QUESTION" [--json]`: answer from the knowledge base, streaming, then list the sources."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", help="the question (quote it)")
    p.add_argument("--json", action="store_true", help="print one JSON document at the end instead of streaming")
    p.add_argument("--fingerspelled", action="store_true",
                   help="the question is raw fingerspelling: correct its words against the index vocabulary first")


def _source_line(s) -> str:
    where = " > ".join(x for x in (s.title, s.section) if x)
    mark = "" if s.cited else " (not cited)"
    return f"[{s.n}] {s.path} - {where} (relevance {s.score:.2f}){mark}"


def run(args, settings) -> int:
    import json
    import sys

    from asl_gpt.errors import CLI_FIXES, LLMError, advised
    from asl_gpt.rag.chain import Answer, Retrieved, Token, build_assistant
    from asl_gpt.rag.citations import says_corrected
    from asl_gpt.rag.conversation import rewritten

    assistant = build_assistant(settings)
    try:
        question = assistant.validate(args.question)  # a 10 MB paste fails here, before any model loads
        if assistant.kb.is_empty():
            print(f"the index is empty: indexing {settings.paths.knowledge_dir} first", file=sys.stderr)
            assistant.kb.index(progress=not args.json)
        raw = question if args.fingerspelled else None
        answer, streamed = None, []
        for event in assistant.ask_stream(question, raw=raw):
            if isinstance(event, Retrieved) and event.correction and event.correction.changed and not args.json:
                print(f"(corrected: {event.correction.corrected})", file=sys.stderr)
            elif isinstance(event, Token) and not args.json:
                streamed.append(event.text)
                print(event.text, end="", flush=True)
            elif isinstance(event, Answer):
                answer = event
    finally:
        assistant.close()
    if args.json:
        print(json.dumps({
            "question": answer.question, "status": answer.status, "answer": advised(answer.text, answer.fix, CLI_FIXES),
            "error": answer.error,
            "raw": answer.correction.raw if answer.correction else None,
            "sources": [{"n": s.n, "path": s.path, "title": s.title, "section": s.section, "score": s.score,
                         "cited": s.cited, "passage": s.passage} for s in answer.sources],
            "timings": answer.timings}, indent=1))
        return 2 if answer.status == "llm_error" else 0
    if answer.status == "not_found":
        print(advised(answer.text, answer.fix, CLI_FIXES))
        return 0
    if answer.status == "llm_error":
        if streamed:
            print()
        print("\nRetrieved passages (not an answer):")
        for s in answer.sources:
            print(f"\n{_source_line(s)}\n{s.passage}")
        raise LLMError(answer.error)
    print()
    if rewritten("".join(streamed), answer):  # said once more only when the checks changed its content
        # A repaired answer's text ends with the check stage's own note: the heading would say it twice.
        print(f"\n{answer.text}" if says_corrected(answer.text) else f"\nCorrected against the source: {answer.text}")
    print("\nSources:")
    for s in answer.sources:
        print(_source_line(s))
    return 0
