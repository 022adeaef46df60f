"""Answers: right, grounded, refused out of scope, and how soon, over a file of questions (the stack warm).

`asl-gpt bench answers [--questions FILE] [--json OUT]` starts the configured assistant once (index,
embeddings, LLM, warm-up), then asks every question of FILE in order and prints, per question, its
status, first-token and total time and whether it was right; then medians and the share right per part
(dev / held-out) and kind (in scope, misspelt, out of scope). The default FILE is this project's own
set (answers.tsv beside this module; its header explains the format). A plain file of questions, one
a line, works too: those are timed and shown, not judged.

"Right" for a question with facts: the answer was given (not refused, not an LLM error) and each fact
is in the answer AND in a passage the answer cites. For an out-of-scope question: refused. First-token
time is from the question to the first streamed token, retrieval included, as a user sees it (for a
quoted answer, which streams nothing, the total time). Retrieval recall@1 / recall@3: for the questions with
an expected document, that document's passage is the first / among the (three) passages the answer was given.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_QUESTIONS = Path(__file__).with_name("answers.tsv")


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    sources: tuple[str, ...] = ()  # substrings of the expected file name (any one); empty: not judged
    facts: tuple[tuple[str, ...], ...] = ()  # every fact required; each a tuple of accepted spellings
    out_of_scope: bool = False  # right when refused
    follow_up: bool = False  # asked with the previous question and its answer as history
    fingerspelled: bool = False  # sent as raw fingerspelling (corrected by the assistant)
    part: str = ""  # "dev" | "held-out" | "" (a plain file)

    @property
    def kind(self) -> str:
        return "out of scope" if self.out_of_scope else "misspelt" if self.fingerspelled else "in scope"

    @property
    def judged(self) -> bool:
        return self.out_of_scope or bool(self.facts)


def parse_questions(text: str) -> list[EvalQuestion]:
    """The questions of an answers file (format in answers.tsv's header)."""
    out, part = [], ""
    for line in text.splitlines():
        if line.startswith("#@"):
            part = line[2:].strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        q, src, terms = (line.split("\t") + ["", ""])[:3]
        marks, _, rest = q.partition(" ")
        follow = fingerspelled = False
        if marks and set(marks) <= {"+", "~"}:  # "+ ", "~ " or "+~ " before the question
            follow, fingerspelled, q = "+" in marks, "~" in marks, rest
        src = src.strip()
        facts = tuple(tuple(a.strip().lower() for a in t.split("|") if a.strip())
                      for t in terms.split(";") if t.strip())
        out.append(EvalQuestion(q.strip(), tuple(s for s in src.split("|") if s and s != "-"), facts,
                                src == "-", follow, fingerspelled, part))
    return out


def judge(q: EvalQuestion, status: str, text: str, cited_passages: list[str]) -> bool | None:
    """Right (True), wrong (False) or not judged (None): see the module's docstring."""
    if q.out_of_scope:
        return status == "not_found"
    if not q.facts:
        return None
    if status != "answered":
        return False
    answer, cited = text.lower(), " ".join(cited_passages).lower()
    return all(any(a in answer and a in cited for a in fact) for fact in q.facts)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                   help="questions file (default: the project's own evaluation set)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write every result and the summary to this file")
    p.add_argument("--part", default="all", help="only this part of the file: dev, held-out or all (default)")
    p.add_argument("--limit", type=int, default=0, help="ask at most this many questions (0: all)")
    p.add_argument("--llm-model", help="embedded model: a bundled name or a .gguf path (default: settings)")
    p.add_argument("--quiet", action="store_true", help="no line per question, only the summary")
    p.add_argument("--no-llm", action="store_true",
                   help="retrieval and refusals only (recall@1/@3, refused or not), without starting the LLM")


def _median(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None


def summarize(results: list[dict]) -> dict:
    """Medians of the timings (first questions and follow-ups apart) and the share right per part and kind."""
    answered = [r for r in results if r["first_token_s"] is not None]
    out = {"questions": len(results),
           "first_token_s_median": _median([r["first_token_s"] for r in answered if not r["follow_up"]]),
           "follow_up_first_token_s_median": _median([r["first_token_s"] for r in answered if r["follow_up"]]),
           "total_s_median": _median([r["total_s"] for r in answered]),
           # llama.cpp's own counts (no other server sends them): load-independent evidence of prompt cache reuse
           "prompt_tokens_median": _median([r["prompt_tokens"] for r in answered
                                            if not r["follow_up"] and r.get("prompt_tokens") is not None]),
           "follow_up_prompt_tokens_median": _median([r["prompt_tokens"] for r in answered
                                                      if r["follow_up"] and r.get("prompt_tokens") is not None]),
           "follow_up_cached_tokens_median": _median([r["cached_tokens"] for r in answered
                                                      if r["follow_up"] and r.get("cached_tokens") is not None]),
           "quoted": sum(r["quoted"] for r in results), "right": {}}
    groups: dict[str, list[bool]] = {}
    ranks: dict[str, list[int | None]] = {}
    for r in results:
        # A set: a file without parts has part "" and would count each question twice under "all".
        keys = {"all", r["part"] or "all"}
        if r.get("expected_source"):
            for key in keys:
                ranks.setdefault(key, []).append(r.get("source_rank"))
        if r["right"] is None:
            continue
        for key in keys | {f"{r['part'] or 'all'} / {r['kind']}"}:
            groups.setdefault(key, []).append(r["right"])
    for key, xs in sorted(groups.items()):
        out["right"][key] = {"right": sum(xs), "total": len(xs), "share": round(sum(xs) / len(xs), 3)}
    out["recall"] = {key: {"at1": sum(x == 1 for x in xs), "at3": sum(x is not None and x <= 3 for x in xs),
                           "total": len(xs)} for key, xs in sorted(ranks.items())}
    return out


def source_rank(paths: list[str], expected: tuple[str, ...]) -> int | None:
    """1-based position of the first passage from an expected document (passages best first), or None."""
    for i, path in enumerate(paths, 1):
        if any(x in Path(path).name for x in expected):
            return i
    return None


def _found(assistant, q: EvalQuestion, history):
    """What `--no-llm` records for a question: the passages an answer would be given, or the refusal."""
    from asl_gpt.rag.chain import REFUSAL_MARK, Answer
    from asl_gpt.rag.sources import to_sources

    question, _, passages, unknown, correction = assistant.find(
        "" if q.fingerspelled else q.question, history, q.question if q.fingerspelled else None)
    if not passages:
        unknown_text = f" (not in the index: {', '.join(unknown)})" if unknown else ""
        return Answer(question, f"refused{unknown_text}, {REFUSAL_MARK}", (), "not_found", correction=correction)
    return Answer(question, "(not asked: --no-llm)", to_sources(passages), "answered", correction=correction)


def _print_verification(results: list[dict]) -> None:
    """Claim precision (answer sentences their passage supports / all checked) and the share of answers the check
    stage repaired (a sentence replaced or dropped, a choice or a fact put in)."""
    verified = [r["verification"] for r in results if r.get("verification")]
    if verified:
        n, ok = sum(v["checked"] for v in verified), sum(v["supported"] for v in verified)
        fixed = sum(bool(v["repaired"] or v["added"]) for v in verified)
        print(f"claim precision: {ok}/{n} answer sentences supported ({100 * ok / max(1, n):.0f}%); "
              f"answers repaired: {fixed}/{len(verified)} ({100 * fixed / len(verified):.0f}%)")


def run(args, settings) -> int:
    import dataclasses

    from asl_gpt.benchmarks import machine_description
    from asl_gpt.rag.chain import Answer, Token, build_assistant

    no_llm = getattr(args, "no_llm", False)
    questions = parse_questions(Path(args.questions).read_text())
    if args.part != "all":
        questions = [q for q in questions if q.part == args.part]
    if args.limit:
        questions = questions[:args.limit]
    if not questions:
        print(f"no questions in {args.questions} (part {args.part})")
        return 2
    if args.llm_model:
        settings = dataclasses.replace(settings, llm=dataclasses.replace(settings.llm, embedded_model=args.llm_model))
    print(f"machine: {machine_description()}")
    t = time.perf_counter()
    assistant = build_assistant(settings)
    results: list[dict] = []
    try:
        if assistant.kb.is_empty():
            print(f"indexing {settings.paths.knowledge_dir} (the index is empty)")
            assistant.kb.index()
        assistant.kb.search("warm up")  # embeddings and BM25 corpus loaded before the clock starts
        if no_llm:
            print(f"no LLM: retrieval and refusals only; search side warm in {time.perf_counter() - t:.1f} s")
        else:
            assistant.warm_up()
            status = assistant.check_llm(start=True)
            print(f"LLM: {status.model} at {status.endpoint} ({status.message}); stack warm in "
                  f"{time.perf_counter() - t:.1f} s")
        history: list[dict] = []
        for i, q in enumerate(questions, 1):
            hist = history if q.follow_up else []
            t0 = time.perf_counter()
            first, answer = None, None
            if no_llm:
                answer = _found(assistant, q, hist)
            else:
                for ev in assistant.ask_stream("" if q.fingerspelled else q.question, history=hist,
                                               raw=q.question if q.fingerspelled else None):
                    if isinstance(ev, Token) and first is None:
                        first = time.perf_counter() - t0
                    elif isinstance(ev, Answer):
                        answer = ev
            total = time.perf_counter() - t0
            if first is None and answer.status == "answered" and not no_llm:
                first = total  # a quoted answer streams nothing: its text appears at the end
            cited = [s.passage for s in answer.sources if s.cited]
            r = {"question": q.question, "part": q.part, "kind": q.kind, "follow_up": q.follow_up,
                 "asked": answer.question, "status": answer.status, "answer": answer.text or answer.error,
                 "quoted": answer.quoted,
                 "verification": dataclasses.asdict(answer.verification) if answer.verification else None,
                 "sources": [{"n": s.n, "path": s.path, "section": s.section, "score": s.score, "cited": s.cited}
                             for s in answer.sources],
                 "expected_source": list(q.sources),
                 "source_found": any(x in Path(s.path).name for s in answer.sources for x in q.sources)
                 if q.sources else None,
                 "source_rank": source_rank([s.path for s in answer.sources], q.sources) if q.sources else None,
                 "first_token_s": round(first, 3) if first is not None else None, "total_s": round(total, 3),
                 "tokens": answer.timings.get("tokens"), "prompt_tokens": answer.timings.get("prompt_tokens"),
                 "cached_tokens": answer.timings.get("cached_tokens"),
                 "right": None if no_llm and not q.out_of_scope else judge(q, answer.status, answer.text, cited)}
            results.append(r)
            history = [{"role": "user", "content": answer.question}, {"role": "assistant", "content": answer.text}]
            if not args.quiet:
                mark = {True: "right", False: "WRONG", None: "-"}[r["right"]]
                if no_llm and r["right"] is None and q.sources:
                    mark = "@1" if r["source_rank"] == 1 else "@3" if r["source_rank"] else "MISS"
                ft = f"{r['first_token_s']:.2f}" if first is not None else "  -  "
                print(f"[{i}/{len(questions)}] {mark:5} {answer.status:9} first {ft} s total {total:5.2f} s "
                      f"{'(quoted) ' if answer.quoted else ''}{'+ ' if q.follow_up else ''}{q.question}")
                shown = r["answer"] if not no_llm or not answer.sources else \
                    f"{answer.question} -> " + ", ".join(f"{Path(x.path).name} {x.score:.2f}" for x in answer.sources)
                print(f"      {(shown or '').replace(chr(10), ' ')[:220]}")
    finally:
        assistant.close()
    summary = summarize(results)
    print(f"\nfirst token, median: {summary['first_token_s_median']} s (first questions), "
          f"{summary['follow_up_first_token_s_median']} s (follow-ups); total median {summary['total_s_median']} s; "
          f"{summary['quoted']} answers quoted")
    _print_verification(results)
    if summary["prompt_tokens_median"] is not None:
        print(f"prompt tokens the LLM read (llama.cpp's count), median: {summary['prompt_tokens_median']} (first "
              f"questions), {summary['follow_up_prompt_tokens_median']} (follow-ups, "
              f"{summary['follow_up_cached_tokens_median']} more taken from its cache)")
    for key, v in summary["right"].items():
        print(f"right {key}: {v['right']}/{v['total']} ({100 * v['share']:.0f}%)")
    for key, v in summary["recall"].items():
        print(f"retrieval {key}: recall@1 {v['at1']}/{v['total']}, recall@3 {v['at3']}/{v['total']} "
              f"(the expected document first / among the passages)")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_description(), "questions_file": str(args.questions),
                                               "summary": summary, "results": results}, indent=1))
        print(f"written: {args.json}")
    return 0


__all__ = ["DEFAULT_QUESTIONS", "EvalQuestion", "judge", "parse_questions", "source_rank", "summarize"]
