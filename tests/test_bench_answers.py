"""`asl-gpt bench answers`: the questions file format, the judging rule, the summary, and the project's own set."""

from __future__ import annotations

from asl_gpt.benchmarks.answers import DEFAULT_QUESTIONS, EvalQuestion, judge, parse_questions, summarize
from asl_gpt.config import load_settings

TEXT = """# a comment
#@ dev
When was it founded?\t15-history\t1817
+ Who founded it?\t15-history|16-gallaudet\tgallaudet; clerc|laurent
~ wat is fingerspeling\t01-manual\tspell
What is the capital of France?\t-\t
#@ held-out
+~ and the letter j\t03-letters\tpinky
a plain question
"""


def test_the_file_format():
    qs = parse_questions(TEXT)
    assert [q.part for q in qs] == ["dev", "dev", "dev", "dev", "held-out", "held-out"]
    assert qs[0] == EvalQuestion("When was it founded?", ("15-history",), (("1817",),), part="dev")
    assert qs[1].follow_up and qs[1].sources == ("15-history", "16-gallaudet")
    assert qs[1].facts == (("gallaudet",), ("clerc", "laurent"))
    assert qs[2].fingerspelled and qs[2].kind == "misspelt" and qs[2].question == "wat is fingerspeling"
    assert qs[3].out_of_scope and qs[3].kind == "out of scope" and qs[3].judged
    assert qs[4].follow_up and qs[4].fingerspelled
    assert not qs[5].judged and qs[5].sources == ()


def test_right_means_the_fact_in_the_answer_and_in_a_cited_passage():
    q = parse_questions("Who founded it?\t15-history\tgallaudet; clerc|laurent")[0]
    cited = ["Gallaudet and Laurent Clerc opened the school."]
    assert judge(q, "answered", "Gallaudet and Clerc [1].", cited) is True
    assert judge(q, "answered", "Gallaudet [1].", cited) is False  # a fact missing from the answer
    assert judge(q, "answered", "Gallaudet and Clerc.", ["Gallaudet opened it."]) is False  # not in a cited passage
    assert judge(q, "llm_error", "Gallaudet and Clerc", cited) is False
    out = parse_questions("Capital of France?\t-\t")[0]
    assert judge(out, "not_found", "", []) is True and judge(out, "answered", "Paris", []) is False
    assert judge(parse_questions("plain")[0], "answered", "x", []) is None


def test_summary_medians_and_shares():
    rows = [
        {"part": "dev", "kind": "in scope", "follow_up": False, "first_token_s": 2.0, "total_s": 4.0, "quoted": False,
         "right": True},
        {"part": "dev", "kind": "in scope", "follow_up": True, "first_token_s": 1.0, "total_s": 3.0, "quoted": True,
         "right": False},
        {"part": "held-out", "kind": "out of scope", "follow_up": False, "first_token_s": None, "total_s": 0.1,
         "quoted": False, "right": True},
    ]
    s = summarize(rows)
    assert s["first_token_s_median"] == 2.0 and s["follow_up_first_token_s_median"] == 1.0
    assert s["total_s_median"] == 3.5 and s["quoted"] == 1
    assert s["right"]["all"] == {"right": 2, "total": 3, "share": 0.667}
    assert s["right"]["dev / in scope"]["total"] == 2 and s["right"]["held-out / out of scope"]["right"] == 1


def test_the_projects_own_set_is_complete_and_its_facts_are_in_its_documents():
    qs = parse_questions(DEFAULT_QUESTIONS.read_text())
    kinds = {k: sum(q.kind == k for q in qs) for k in ("in scope", "misspelt", "out of scope")}
    assert kinds["in scope"] >= 60 and kinds["misspelt"] >= 15 and kinds["out of scope"] >= 15
    assert sum(q.out_of_scope and q.follow_up for q in qs) >= 4
    held = [q for q in qs if q.part == "held-out"]
    assert 0.25 <= len(held) / len(qs) <= 0.4 and {q.part for q in qs} == {"dev", "held-out"}
    docs = {p.name: p.read_text().lower() for p in load_settings(env={}).paths.knowledge_dir.glob("*.md")}
    for q in qs:
        if q.out_of_scope:
            continue
        files = [name for name in docs if any(s in name for s in q.sources)]
        assert files, q
        for fact in q.facts:
            assert any(a in docs[f] for f in files for a in fact), (q.question, fact)


def test_a_file_without_parts_counts_each_question_once_and_recall_is_reported():
    from asl_gpt.benchmarks.answers import source_rank

    rows = [{"part": "", "kind": "in scope", "follow_up": False, "first_token_s": 2.0, "total_s": 4.0,
             "quoted": False, "right": True, "expected_source": ["15-history"], "source_rank": 1},
            {"part": "", "kind": "in scope", "follow_up": False, "first_token_s": 2.0, "total_s": 4.0,
             "quoted": False, "right": False, "expected_source": ["16-gallaudet"], "source_rank": 3},
            {"part": "", "kind": "out of scope", "follow_up": False, "first_token_s": None, "total_s": 0.1,
             "quoted": False, "right": True, "expected_source": [], "source_rank": None}]
    s = summarize(rows)
    assert s["right"]["all"] == {"right": 2, "total": 3, "share": 0.667}  # was 4/6: every question twice
    assert s["recall"]["all"] == {"at1": 1, "at3": 2, "total": 2}
    paths = ["knowledge/08-fingerspelling-speed.md", "knowledge/01-manual-alphabet-overview.md"]
    assert source_rank(paths, ("01-manual-alphabet",)) == 2 and source_rank(paths, ("99-x",)) is None
