"""`asl-gpt bench answers`: the questions file format, the judging rule, the summary, and the project's own set."""

from __future__ import annotations

from pathlib import Path

from asl_gpt.benchmarks.answers import (DEFAULT_QUESTIONS, EvalQuestion, first_sentence, judge, parse_questions,
                                       summarize, summary_lines)
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


def test_a_word_of_the_question_is_not_the_asked_for_fact():
    q = parse_questions("Is eye contact important when signing?\t19-deaf\teye contact|gaze")[0]
    cited = ["In ASL, eye contact carries the conversation. The watcher keeps their gaze on the signer."]
    assert judge(q, "answered", "Eye contact is important when signing [1].", cited) is False
    assert judge(q, "answered", "Yes: the watcher keeps their gaze on the signer [1].", cited) is True


SAME = "is bsl the same as asl\t22-other\t^no|not|different; !yes; two hands"
BSL = ["ASL and BSL are different languages. BSL fingerspelling uses two hands."]


def test_a_yes_where_the_passage_says_they_differ_is_wrong():
    q = parse_questions(SAME)[0]
    assert q.choice == ("no", "not", "different") and q.wrong_choice == ("yes",) and q.facts == (("two hands",),)
    assert judge(q, "answered", "No: BSL fingerspells with two hands, ASL with one [1].", BSL) is True
    assert judge(q, "answered", "**No**, they are different languages; BSL uses two hands [1].", BSL) is True
    assert judge(q, "answered", "They are not the same: BSL spells with two hands [1].", BSL) is True
    assert judge(q, "answered", "Yes, BSL is the same as ASL, but it uses two hands [1].", BSL) is False
    assert judge(q, "answered", "Yes, they are different: BSL uses two hands [1].", BSL) is False  # "yes" first
    assert judge(q, "answered", "BSL uses two hands [1]. So no.", BSL) is False  # the choice not said first
    assert judge(q, "answered", "No, they differ [1].", BSL) is False  # the choice without the fact


def test_an_either_or_question_needs_the_choice_not_yes_or_both():
    q = parse_questions("should i bounce each letter or keep my hand still\t07-technique\t"
                        "^still|steady; !bounce|bouncing; noise")[0]
    cited = ["The bounce adds visual noise. Fluent spellers keep the hand still."]
    assert judge(q, "answered", "Keep your hand still; a bounce adds visual noise [1].", cited) is True
    assert judge(q, "answered", "Keep it steady and do not bounce: bouncing adds noise [1].", cited) is True
    assert judge(q, "answered", "Yes, you should bounce each letter or keep your hand still (noise) [1].", cited) is False
    assert judge(q, "answered", "You should bounce each letter or keep your hand still, noise [1].", cited) is False
    assert judge(q, "answered", "Bounce each letter, keeping the hand still in between, noise [1].", cited) is False
    m_or_n = parse_questions("which one has the thumb by the pinky m or n\t06-confusable\t^m; three")[0]
    passage = ["M: the thumb is tucked under three fingers, its tip between the ring finger and the pinky."]
    assert judge(m_or_n, "answered", "M: three fingers fold over the thumb [1].", passage) is True
    assert judge(m_or_n, "answered", "M or N: three fingers [1].", passage) is False
    eyebrows = parse_questions("which eyebrows go with yes no questions raised or lowered\t08-grammar\t^raised")[0]
    undecided = 'The passages do not decide between "raised" and "lowered". Raised eyebrows mark yes/no questions [1].'
    assert judge(eyebrows, "answered", undecided, ["Raised eyebrows mark yes/no questions."]) is False


def test_first_sentence_ends_at_a_colon_semicolon_or_stop():
    assert first_sentence("**No**: they differ. Yes.") == "no"
    assert first_sentence("Keep it still; never bounce.") == "keep it still"
    quoted = ("Quoted from the knowledge base (the model's own answer was not usable):\n"
              '> "This blend was long called Pidgin Signed English (PSE)." [1]\n> "It is not the same as ASL." [1]')
    assert first_sentence(quoted) == "this blend was long called pidgin signed english (pse)"  # not "...not usable"


def test_the_users_set_is_well_formed_and_its_facts_are_in_its_documents():
    users = Path(DEFAULT_QUESTIONS).with_name("answers-users.tsv")
    qs = parse_questions(users.read_text())
    assert {q.part for q in qs} == {"dev", "held-out", "held-out-2", "held-out-3", "held-out-4", "held-out-5"}
    held2 = [q for q in qs if q.part == "held-out-2"]
    assert len(held2) >= 40 and sum(bool(q.choice) for q in held2) >= 15
    held3 = [q for q in qs if q.part == "held-out-3"]
    assert len(held3) >= 24 and sum(bool(q.choice) for q in held3) >= 10
    for part in ("held-out-4", "held-out-5"):
        held = [q for q in qs if q.part == part]
        assert len(held) == 40 and sum(bool(q.choice) for q in held) >= 10, part
    docs = {p.name: p.read_text().lower() for p in load_settings(env={}).paths.knowledge_dir.glob("*.md")}
    for q in qs:
        if q.out_of_scope:
            continue
        files = [name for name in docs if any(s in name for s in q.sources)]
        assert files and q.judged, q
        for fact in q.facts:
            assert any(a in docs[f] for f in files for a in fact), (q.question, fact)


def test_every_fact_can_be_stated_without_repeating_the_question():
    for path in (DEFAULT_QUESTIONS, Path(DEFAULT_QUESTIONS).with_name("answers-users.tsv")):
        for q in parse_questions(path.read_text()):
            for fact in q.facts:
                assert any(a not in q.question.lower() for a in fact), (path.name, q.question, fact)


def test_summary_medians_and_shares():
    rows = [
        {"part": "dev", "kind": "in scope", "follow_up": False, "first_token_s": 2.0, "total_s": 4.0, "quoted": False,
         "right": True},
        {"part": "dev", "kind": "in scope", "follow_up": False, "first_token_s": 0.4, "total_s": 5.0, "quoted": False,
         "right": True, "lead_s": 0.4},
        {"part": "dev", "kind": "in scope", "follow_up": True, "first_token_s": 1.0, "total_s": 3.0, "quoted": True,
         "right": False},
        {"part": "held-out", "kind": "out of scope", "follow_up": False, "first_token_s": None, "total_s": 0.1,
         "quoted": False, "right": True},
    ]
    s = summarize(rows)
    assert s["first_token_s_median"] == 1.2 and s["follow_up_first_token_s_median"] == 1.0
    assert s["total_s_median"] == 4.0 and s["quoted"] == 1
    assert s["lead"] == 1 and s["first_token_s_median_lead"] == 0.4 and s["first_token_s_median_no_lead"] == 2.0
    assert s["right"]["all"] == {"right": 3, "total": 4, "share": 0.75}
    assert s["right"]["dev / in scope"]["total"] == 3 and s["right"]["held-out / out of scope"]["right"] == 1


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


def test_run_asks_each_question_judges_it_and_prints_the_summary(tmp_path, monkeypatch, capsys):
    """The whole `bench answers` loop on a stand-in assistant (no index, no LLM): follow-ups get the previous
    turn as history, each answer is judged, the JSON holds the cited passages the judge read."""
    import argparse
    import json

    import asl_gpt.rag.chain as chain
    from asl_gpt.benchmarks import answers
    from asl_gpt.rag.sources import Source

    class KB:
        def is_empty(self):
            return False

        def search(self, q):
            return []

    class Assistant:
        kb = KB()
        histories: list = []

        def warm_up(self):
            pass

        def check_llm(self, start=True):
            return argparse.Namespace(model="m", endpoint="e", message="ready")

        def ask_stream(self, question, history=(), raw=None):
            self.histories.append(list(history))
            if "france" in question.lower():
                yield chain.Answer(question, "no passage", (), "not_found")
                return
            yield chain.Token("No")
            src = Source(1, "knowledge/22-other-sign-languages.md", "t", "s", BSL[0], 0.9, cited=True)
            yield chain.Answer(question, "No: BSL uses two hands [1].", (src,), timings={"prompt_tokens": 9})

        def close(self):
            pass

    monkeypatch.setattr(chain, "build_assistant", lambda settings: Assistant())
    qs = tmp_path / "q.tsv"
    qs.write_text("#@ dev\n" + SAME + "\n+ and is it universal\t22-other\t^no; two hands\nCapital of France?\t-\t\n")
    out = tmp_path / "r.json"
    args = argparse.Namespace(questions=qs, json=out, part="all", limit=0, llm_model=None, quiet=False, no_llm=False)
    assert answers.run(args, load_settings(env={})) == 0
    results = json.loads(out.read_text())["results"]
    assert [r["right"] for r in results] == [True, True, True]
    assert results[0]["cited_passages"] == BSL and Assistant.histories[1][0]["content"] == "is bsl the same as asl"
    assert Assistant.histories[0] == [] and Assistant.histories[2] == []
    assert "right all: 3/3 (100%)" in capsys.readouterr().out


def test_summary_gives_llama_cpp_rates_when_the_server_sent_them():
    from asl_gpt.rag.conversation import count_prompt

    class Chunk:
        response_metadata = {"timings": {"prompt_n": 300, "cache_n": 78, "prompt_per_second": 40.0,
                                         "predicted_per_second": 15.5}}

    timings: dict = {}
    count_prompt(Chunk(), timings)
    assert timings == {"prompt_tokens": 300, "cached_tokens": 78, "prompt_per_s": 40.0, "writing_per_s": 15.5}
    row = {"first_token_s": 1.0, "total_s": 2.0, "follow_up": False, "quoted": False, "part": "held-out",
           "kind": "in scope", "right": True, "source_rank": None, "verification": None, **timings}
    summary = summarize([row, {**row, "prompt_per_s": 20.0, "writing_per_s": 10.5}])
    assert (summary["prompt_per_s_median"], summary["writing_per_s_median"]) == (30.0, 13.0)
    assert any("reading 30.0 tokens/s, writing 13.0 tokens/s" in line for line in summary_lines(summary))
