"""Answers: right, grounded, refused out of scope, and how soon, over a file of questions (the stack warm).

`asl-gpt bench answers [--questions FILE] [--json OUT]` starts the configured assistant once (index,
embeddings, LLM, warm-up), then asks every question of FILE in order and prints, per question, its
status, first-token and total time and whether it was right; then medians and the share right per part
(dev / held-out) and kind (in scope, misspelt, out of scope). The default FILE is this project's own
set (answers.tsv beside this module; its header explains the format). A plain file of questions, one
a line, works too: those are timed and shown, not judged.

"Right" for a question with facts: the answer was given (not refused, not an LLM error) and each fact
is in the answer AND in a passage the answer cites; a spelling that is in the question itself does not count
(repeating the question is not stating the asked-for fact). A choice question (yes/no, same or different,
either/or, which of) must also say the passage's choice first: its first sentence holds the choice and no
un-negated wrong choice ("Yes" where the passage says they differ is wrong), and an either/or question is
not answered by "yes"/"no" or by repeating its alternatives ("Yes, you should do A or B" is wrong), nor by
the check's undecided opener, which names the options without choosing ("The passages do not decide ..."). For an
out-of-scope question: refused. First-token
time is from the question to the first streamed token, retrieval included, as a user sees it (for a
quoted answer, which streams nothing, the total time). Retrieval recall@1 / recall@3: for the questions with
an expected document, that document's passage is the first / among the (three) passages the answer was given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from asl_gpt.rag.decisions import UNDECIDED

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
    choice: tuple[str, ...] = ()  # "^" in TERMS: the passage's choice; one of these words in the first sentence
    wrong_choice: tuple[str, ...] = ()  # "!" in TERMS: words the first sentence must not hold unless negated

    @property
    def kind(self) -> str:
        return "out of scope" if self.out_of_scope else "misspelt" if self.fingerspelled else "in scope"

    @property
    def judged(self) -> bool:
        return self.out_of_scope or bool(self.facts) or bool(self.choice)


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
        groups = [t.strip() for t in terms.split(";") if t.strip()]
        facts, choice, wrong = [], (), ()
        for g in groups:
            spellings = tuple(a.strip().lower() for a in g.lstrip("^!").split("|") if a.strip())
            if g.startswith("^"):
                choice = spellings
            elif g.startswith("!"):
                wrong = spellings
            else:
                facts.append(spellings)
        out.append(EvalQuestion(q.strip(), tuple(s for s in src.split("|") if s and s != "-"), tuple(facts),
                                src == "-", follow, fingerspelled, part, choice, wrong))
    return out


# Words that negate a wrong choice named right after them ("do not bounce", "rather than bouncing").
_NEGATIONS = {"not", "no", "never", "avoid", "without", "instead", "rather", "dont", "cannot", "nor"}
# Little words skipped when finding the two alternatives around a question's "or".
_FILLER = {"the", "a", "an", "to", "my", "your", "it", "i", "you", "should", "do", "be", "one"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))


def first_sentence(text: str) -> str:
    """The answer's opening statement: up to the first end of sentence, colon or semicolon ("No: ..." -> "no").
    For a quoted answer, its first quote (the line announcing the quotes says nothing)."""
    text = re.sub(r"^\s*quoted from the knowledge base[^\n]*\n", "", text, flags=re.IGNORECASE)
    text = re.sub(r"[*_#>`\"\u201c\u201d]", "", text).strip().lower()
    return re.split(r"[.!?;:\n]", text, maxsplit=1)[0]


def _has_word(words: list[str], spelling: str) -> bool:
    target = _words(spelling)
    return any(words[i:i + len(target)] == target for i in range(len(words) - len(target) + 1)) if target else False


def _says_unnegated(words: list[str], spelling: str) -> bool:
    """`spelling` occurs in `words` at least once without a negation among the three words before it."""
    target = _words(spelling)
    for i in range(len(words) - len(target) + 1):
        if words[i:i + len(target)] == target:
            before = words[max(0, i - 3):i]
            if not any(w in _NEGATIONS or w.endswith("n't") for w in before):
                return True
    return False


def _alternatives(question: str) -> tuple[str, str] | None:
    """The two alternatives of an either/or question, the content words either side of its "or"."""
    words = _words(question)
    if "or" not in words:
        return None
    i = words.index("or")
    left = [w for w in words[:i] if w not in _FILLER]
    right = [w for w in words[i + 1:] if w not in _FILLER]
    return (left[-1], right[0]) if left and right else None


def states_choice(q: EvalQuestion, text: str) -> bool:
    """The answer says the passage's choice first (see the module's docstring)."""
    opening = first_sentence(text)
    if opening.startswith(UNDECIDED.lower()):
        return False  # "The passages do not decide between "raised" and "lowered"" names the choice, choosing none
    words = _words(opening)
    if not any(_has_word(words, c) for c in q.choice):
        return False
    if any(_says_unnegated(words, w) for w in q.wrong_choice):
        return False
    pair = _alternatives(q.question)
    if pair is not None:
        if words[:1] in (["yes"], ["no"]):
            return False  # an either/or question has no yes/no answer
        if "or" in words and all(w in words for w in pair):
            return False  # the alternatives repeated, none chosen
    return True


def states_fact(q: EvalQuestion, fact: tuple[str, ...], answer: str, cited: str) -> bool:
    """One spelling of `fact` is in the answer and in a cited passage, and is not just a word of the question."""
    asked = q.question.lower()
    return any(a in answer and a in cited and a not in asked for a in fact)


def judge(q: EvalQuestion, status: str, text: str, cited_passages: list[str]) -> bool | None:
    """Right (True), wrong (False) or not judged (None): see the module's docstring."""
    if q.out_of_scope:
        return status == "not_found"
    if not q.judged:
        return None
    if status != "answered":
        return False
    if q.choice and not states_choice(q, text):
        return False
    answer, cited = text.lower(), " ".join(cited_passages).lower()
    return all(states_fact(q, fact, answer, cited) for fact in q.facts)


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
           "cached_tokens_median": _median([r["cached_tokens"] for r in answered
                                            if not r["follow_up"] and r.get("cached_tokens") is not None]),
           "follow_up_cached_tokens_median": _median([r["cached_tokens"] for r in answered
                                                      if r["follow_up"] and r.get("cached_tokens") is not None]),
           # llama.cpp's reading and writing rates: the ratio of two models run under the same load
           "prompt_per_s_median": _median([r.get("prompt_per_s") for r in answered]),
           "writing_per_s_median": _median([r.get("writing_per_s") for r in answered]),
           # the answers that began with what the passages answer (a decided choice, the fact asked for), said
           # before the model read its prompt, and the first token with and without one
           "lead": sum(r.get("lead_s") is not None for r in answered),
           "first_token_s_median_lead": _median([r["first_token_s"] for r in answered
                                                 if not r["follow_up"] and r.get("lead_s") is not None]),
           "first_token_s_median_no_lead": _median([r["first_token_s"] for r in answered
                                                    if not r["follow_up"] and r.get("lead_s") is None]),
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


def verification_lines(results: list[dict]) -> list[str]:
    """Claim precision (answer sentences their passage supports / all checked) and the share of answers the check
    stage repaired (a sentence replaced or dropped, a choice or a fact put in)."""
    verified = [r["verification"] for r in results if r.get("verification")]
    if verified:
        n, ok = sum(v["checked"] for v in verified), sum(v["supported"] for v in verified)
        fixed = sum(bool(v["repaired"] or v["added"]) for v in verified)
        return [f"claim precision: {ok}/{n} answer sentences supported ({100 * ok / max(1, n):.0f}%); "
                f"answers repaired: {fixed}/{len(verified)} ({100 * fixed / len(verified):.0f}%)"]
    return []


def _select(args) -> list[EvalQuestion]:
    """The questions of `--questions`, `--part` and `--limit`."""
    questions = parse_questions(Path(args.questions).read_text())
    if args.part != "all":
        questions = [q for q in questions if q.part == args.part]
    return questions[:args.limit] if args.limit else questions


def _warm_up(assistant, settings, no_llm: bool, t: float) -> None:
    """Index if empty, load the search side and (unless `no_llm`) start the LLM, before the clock starts."""
    if assistant.kb.is_empty():
        print(f"indexing {settings.paths.knowledge_dir} (the index is empty)")
        assistant.kb.index()
    assistant.kb.search("warm up")  # embeddings and BM25 corpus loaded before the clock starts
    if no_llm:
        print(f"no LLM: retrieval and refusals only; search side warm in {time.perf_counter() - t:.1f} s")
        return
    assistant.warm_up()
    status = assistant.check_llm(start=True)
    print(f"LLM: {status.model} at {status.endpoint} ({status.message}); stack warm in "
          f"{time.perf_counter() - t:.1f} s")


def _ask(assistant, q: EvalQuestion, history: list[dict], no_llm: bool):
    """The answer to `q`, its first-token time (None when nothing streamed or not asked) and total time."""
    from asl_gpt.rag.chain import Answer, Token

    t0 = time.perf_counter()
    first, answer = None, None
    if no_llm:
        answer = _found(assistant, q, history)
    else:
        for ev in assistant.ask_stream("" if q.fingerspelled else q.question, history=history,
                                       raw=q.question if q.fingerspelled else None):
            if isinstance(ev, Token) and first is None:
                first = time.perf_counter() - t0
            elif isinstance(ev, Answer):
                answer = ev
    total = time.perf_counter() - t0
    if first is None and answer.status == "answered" and not no_llm:
        first = total  # a quoted answer streams nothing: its text appears at the end
    return answer, first, total


def _record(q: EvalQuestion, answer, first: float | None, total: float, no_llm: bool) -> dict:
    """One question's line of the JSON report, judged."""
    cited = [s.passage for s in answer.sources if s.cited]
    return {"question": q.question, "part": q.part, "kind": q.kind, "follow_up": q.follow_up,
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
            "lead_s": answer.timings.get("lead_s"),
            "tokens": answer.timings.get("tokens"), "prompt_tokens": answer.timings.get("prompt_tokens"),
            "cached_tokens": answer.timings.get("cached_tokens"), "cited_passages": cited,
            "prompt_per_s": answer.timings.get("prompt_per_s"), "writing_per_s": answer.timings.get("writing_per_s"),
            "right": None if no_llm and not q.out_of_scope else judge(q, answer.status, answer.text, cited)}


def _show(i: int, n: int, q: EvalQuestion, r: dict, answer, no_llm: bool) -> None:
    mark = {True: "right", False: "WRONG", None: "-"}[r["right"]]
    if no_llm and r["right"] is None and q.sources:
        mark = "@1" if r["source_rank"] == 1 else "@3" if r["source_rank"] else "MISS"
    ft = f"{r['first_token_s']:.2f}" if r["first_token_s"] is not None else "  -  "
    print(f"[{i}/{n}] {mark:5} {answer.status:9} first {ft} s total {r['total_s']:5.2f} s "
          f"{'(quoted) ' if answer.quoted else ''}{'+ ' if q.follow_up else ''}{q.question}")
    shown = r["answer"] if not no_llm or not answer.sources else \
        f"{answer.question} -> " + ", ".join(f"{Path(x.path).name} {x.score:.2f}" for x in answer.sources)
    print(f"      {(shown or '').replace(chr(10), ' ')[:220]}")


def summary_lines(summary: dict) -> list[str]:
    """The printed summary, a line per figure (add a figure: a key in `summarize`, a line here)."""
    lines = [f"first token, median: {summary['first_token_s_median']} s (first questions), "
             f"{summary['follow_up_first_token_s_median']} s (follow-ups); total median {summary['total_s_median']} s; "
             f"{summary['quoted']} answers quoted"]
    if summary.get("lead"):
        lines.append(f"answers opened by the passages' own answer before the model wrote: {summary['lead']}; first "
                     f"token, median (first questions): {summary['first_token_s_median_lead']} s with it, "
                     f"{summary['first_token_s_median_no_lead']} s without")
    if summary["prompt_tokens_median"] is not None:
        lines.append(f"prompt tokens the LLM read (llama.cpp's count), median: {summary['prompt_tokens_median']} "
                     f"(first questions, {summary['cached_tokens_median']} more taken from its cache), "
                     f"{summary['follow_up_prompt_tokens_median']} (follow-ups, "
                     f"{summary['follow_up_cached_tokens_median']} more taken from its cache)")
    if summary.get("prompt_per_s_median") is not None:
        lines.append(f"llama.cpp's rates, median: reading {summary['prompt_per_s_median']} tokens/s, "
                     f"writing {summary['writing_per_s_median']} tokens/s")
    lines += [f"right {key}: {v['right']}/{v['total']} ({100 * v['share']:.0f}%)" for key, v in summary["right"].items()]
    lines += [f"retrieval {key}: recall@1 {v['at1']}/{v['total']}, recall@3 {v['at3']}/{v['total']} "
              f"(the expected document first / among the passages)" for key, v in summary["recall"].items()]
    return lines


def run(args, settings) -> int:
    import dataclasses

    from asl_gpt.benchmarks import machine_description
    from asl_gpt.rag.chain import build_assistant

    no_llm = getattr(args, "no_llm", False)
    questions = _select(args)
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
        _warm_up(assistant, settings, no_llm, t)
        history: list[dict] = []
        for i, q in enumerate(questions, 1):
            answer, first, total = _ask(assistant, q, history if q.follow_up else [], no_llm)
            results.append(_record(q, answer, first, total, no_llm))
            history = [{"role": "user", "content": answer.question}, {"role": "assistant", "content": answer.text}]
            if not args.quiet:
                _show(i, len(questions), q, results[-1], answer, no_llm)
            if args.json:  # after every question: a run cut short keeps what it measured
                _write_json(args, results)
    finally:
        assistant.close()
    print("\n" + "\n".join(summary_lines(summarize(results)) + verification_lines(results)))
    if args.json:
        _write_json(args, results)
        print(f"written: {args.json}")
    return 0


def _write_json(args, results: list[dict]) -> None:
    from asl_gpt.benchmarks import machine_description

    Path(args.json).write_text(json.dumps({"machine": machine_description(), "questions_file": str(args.questions),
                                           "summary": summarize(results), "results": results}, indent=1))


__all__ = ["DEFAULT_QUESTIONS", "EvalQuestion", "first_sentence", "judge", "parse_questions", "source_rank",
           "states_choice", "summarize", "summary_lines"]
