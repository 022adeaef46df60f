"""The check stage without an LLM: polarity, per-sentence verification, repairs (pure)."""

from __future__ import annotations

from asl_gpt.rag.citations import cite
from asl_gpt.rag.sources import Source
from asl_gpt.rag.text import polarity, tidy_markers, without_headings
from asl_gpt.rag.verification import Checked, Verification, check, said_once, verify
from asl_gpt.rag.windows import ContextOptions

LANGUAGES = Source(1, "knowledge/22.md", "Other sign languages", "Not universal",
                   "Sign language is not universal. ASL and British Sign Language (BSL) are different languages. "
                   "BSL uses a two-handed alphabet, while ASL uses a one-handed alphabet.", 0.8)
LAW = Source(2, "knowledge/21.md", "Access rights", "Hospitals",
             "Under the ADA, a hospital must provide a qualified interpreter at no cost to the patient. "
             "The patient does not have to pay for the interpreter.", 0.7)
HISTORY = Source(3, "knowledge/15.md", "Deaf history", "Schools",
                 "The American School for the Deaf opened in Hartford in 1817. Laurent Clerc was its first teacher.", 0.7)
GIVEN = (LANGUAGES, LAW, HISTORY)


def test_polarity_reads_negation_sameness_and_obligation():
    assert polarity("ASL is the same as BSL.").same is True
    assert polarity("ASL is not the same as BSL.").same is False
    assert polarity("ASL and BSL are different languages.").same is False
    assert polarity("Sign language is not universal.").same is False
    assert polarity("The patient must pay.").must is True
    assert polarity("The patient does not have to pay and is not required to.").must is False
    assert polarity("An interpreter is optional.").must is False
    assert polarity("It doesn’t open on Sundays.").negated and not polarity("It opens on Sundays.").negated
    assert polarity("No, ASL is not the same as BSL.").same is False  # the opener is decided elsewhere


def test_a_supported_sentence_is_kept_and_counted():
    text, v = verify("The American School for the Deaf opened in Hartford in 1817 [3].", GIVEN,
                     "when did the american school for the deaf open")
    assert text == "The American School for the Deaf opened in Hartford in 1817 [3]."
    assert v == Verification(checked=1, supported=1, repaired=0)


def test_a_flipped_sentence_is_replaced_by_the_passage_sentence_it_misstates():
    text, v = verify("Yes, ASL is the same as BSL [1].", GIVEN, "is asl the same as bsl")
    assert "same as BSL" not in text
    assert '"ASL and British Sign Language (BSL) are different languages." [1]' in text
    assert v.checked == 1 and v.supported == 0 and v.repaired == 1


def test_an_invented_requirement_is_dropped():
    text, v = verify("Under the ADA, a hospital must provide an interpreter [2]. The law requires deaf people to "
                     "have a disability insurance policy [2].", GIVEN, "who pays for an interpreter at a hospital")
    assert "insurance" not in text and text.startswith("Under the ADA, a hospital must provide an interpreter [2].")
    assert v.checked == 2 and v.supported == 1 and v.repaired == 1


def test_a_denied_obligation_is_a_contradiction():
    text, v = verify("The patient has to pay for the interpreter and must pay [2].", GIVEN,
                     "does the patient pay for the interpreter")
    assert v.repaired == 1 and "must pay" not in text


def test_the_final_answer_says_it_was_corrected_and_an_answer_with_nothing_held_is_quoted():
    opts = ContextOptions()
    read = [s.passage for s in GIVEN]
    checked = check("Sign language is not universal [1]. Yes, ASL is the same as BSL [1].", GIVEN, read,
                    "is asl the same as bsl", opts)
    assert checked.verification.repaired == 1 and checked.verification.supported == 1
    text, sources, quoted = cite(checked, GIVEN, GIVEN, [])
    assert not quoted and "Corrected against the source" in text and sources[0].cited
    none_held = check("ASL is the same as BSL [1].", GIVEN, read, "tell me about asl and bsl", opts)
    assert none_held == Checked("", Verification(1, 0, 1))
    quotes = [(LANGUAGES.passage, "Sign language is not universal.")]
    text, _, quoted = cite(none_held, GIVEN, GIVEN, quotes)
    assert quoted and '"Sign language is not universal." [1]' in text


def test_two_sentences_misstating_one_passage_sentence_bring_it_back_once():
    text, v = verify("Yes, ASL is the same as BSL [1]. ASL and BSL are the same language [1].", GIVEN,
                     "is asl the same as bsl")
    assert text.count("are different languages") == 1 and v.repaired == 2


def test_a_refusal_stands_when_no_quote_is_about_what_was_asked():
    """Issue 28 item 3: a garbled signed word corrected to "alarm" finds a passage about alarms; the model says it
    found nothing: that refusal stands, instead of a quote about alarm clocks the user never asked about."""
    from asl_gpt.rag.verification import keeps_refusal

    quotes = [("Alarm clocks for deaf people shake the bed.", "Alarm clocks for deaf people shake the bed.")]
    refusal = "I could not find anything about that in the passages."
    assert keeps_refusal(refusal, quotes, "wht is qarlm")
    assert not keeps_refusal(refusal, quotes, "what alarm clock wakes a deaf person")  # the quote is on topic
    assert not keeps_refusal("Alarm clocks vibrate [1].", quotes, "wht is qarlm")  # not a refusal


CONFIDENCE = Source(4, "knowledge/29.md", "Confidence", "Improving it",
                    "Confidence rises when the model sees clear, well-formed letters. To improve it:\n"
                    "- Use good light.", 0.7)


def test_up_against_down_about_the_same_thing_is_a_contradiction():
    assert polarity("Confidence rises when letters are clear.").up is True
    assert polarity("The confidence is low.").up is False and polarity("It does not rise.").up is False
    assert polarity("Raised or lowered eyebrows.").up is None  # both ways: says neither
    text, v = verify("The confidence is low because the model sees clear, well-formed letters [4].", (CONFIDENCE,),
                     "why is the confidence so low")
    assert v.repaired == 1 and text == '"Confidence rises when the model sees clear, well-formed letters." [4]'


def test_a_sentence_is_said_once_and_no_lead_in_is_left_hanging():
    assert said_once("It needs 640x480 video [1]. You can type instead [2]. It needs 640x480 video [1].") == (
        "It needs 640x480 video [1]. You can type instead [2].")
    assert said_once("Confidence rises with clear letters [4]. To improve it: [4] [1]") == (
        "Confidence rises with clear letters [4].")
    assert said_once("To improve it:\n- Use good light [4].") == "To improve it:\n- Use good light [4]."


def test_a_passage_label_the_model_echoes_mid_answer_is_removed():
    assert tidy_markers('School [1]. (from "The Founding of ASL", section "Laurent Clerc"): [1] Clerc taught [1].',
                        {1}) == "School [1]. Clerc taught [1]."


def test_a_heading_used_as_a_sentence_is_no_answer_sentence():
    section = "Thomas Hopkins Gallaudet's journey to Europe"
    given = (Source(1, "k/15.md", "ASL founding", section, "In 1815, funded by Cogswell and his supporters, "
                    "Gallaudet sailed to Europe. In Paris he met Laurent Clerc.", 0.9),)
    echo = f"{section}, funded by Cogswell and his supporters [1]. In Paris he met Laurent Clerc [1]."
    assert check(echo, given, [given[0].passage], "which of his students came to america", ContextOptions()).text == (
        "In Paris he met Laurent Clerc [1].")
    kept = f"{section} was funded by Cogswell and his supporters [1]."  # the heading as the subject of a sentence
    assert without_headings(kept, {section}) == kept


def test_a_sentence_that_introduces_a_list_brings_its_first_item_and_never_ends_an_answer():
    from asl_gpt.rag.decisions import decide
    from asl_gpt.rag.questions import choice
    from asl_gpt.rag.text import choice_opening
    baby = Source(1, "k/34.md", "Baby sign", "Not ASL", "Baby sign and ASL are not the same thing:\n\n- Baby sign uses "
                  "a limited vocabulary; ASL is a complete language.\n- Baby sign is dropped as the child talks.", 0.6)
    d = decide(choice("is baby sign the same as asl"), "is baby sign the same as asl", (baby,))
    assert choice_opening(d.word, d.sentence, d.n, d.follow) == (
        "No: Baby sign and ASL are not the same thing [1]: Baby sign uses a limited vocabulary; ASL is a complete "
        "language [1].")
    assert said_once("ASL has no writing system [3]. Common conventions include: [3].") == (
        "ASL has no writing system [3].")


def test_at_the_same_time_says_when_not_sameness():
    assert polarity("should i talk and sign at the same time").same is None
    assert polarity("No one can watch an interpreter and read at the same time.").same is None
    assert polarity("Is BSL the same as ASL?").same is True and polarity("They are not the same.").same is False

