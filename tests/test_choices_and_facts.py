"""Choice questions decided by the passage, and the fact asked for put first and kept (pure, no LLM)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from asl_gpt.rag.decisions import Decision, decide
from asl_gpt.rag.questions import Choice, choice, defined_term, difference_pair, question_kind
from asl_gpt.rag.sources import Source
from asl_gpt.rag.text import cited_sentence
from asl_gpt.rag.verification import Lead, answer_choice, check, holds_fact
from asl_gpt.rag.windows import ContextOptions, fact_sentence, select_sentences
from test_verification import GIVEN, HISTORY, LANGUAGES


@pytest.mark.parametrize("question, kind, options", [
    ("Is ASL the same as BSL?", "yes_no", ()),
    ("do i need to pay for an interpreter", "yes_no", ()),
    ("can I fingerspell with my left hand", "yes_no", ()),
    ("should I fingerspell with my left hand or my right hand", "options", ("left hand", "right hand")),
    ("do I sign it near the chin or the shoulder?", "options", ("chin", "shoulder")),
    ("which of these is a loan sign: car, job or dog?", "options", ("car", "job", "dog")),
    ("does ASL use a one-handed or a two-handed alphabet", "options", ("one-handed", "two-handed")),
])
def test_choice_questions_are_recognised(question, kind, options):
    c = choice(question)
    assert c is not None and c.kind == kind and c.options == options


@pytest.mark.parametrize("question", ["what is fingerspelling", "who was Laurent Clerc", "can you tell me about BSL",
                                      "how do I sign thank you"])
def test_other_questions_are_no_choice(question):
    assert choice(question) is None


def _decide(q):
    return decide(choice(q), q, GIVEN)


def test_yes_no_is_decided_by_the_polarity_of_the_passage_sentence():
    assert _decide("Is ASL the same as BSL?") == Decision(
        "No", 1, "ASL and British Sign Language (BSL) are different languages.",
        "BSL uses a two-handed alphabet, while ASL uses a one-handed alphabet.")  # the detail, said next
    assert _decide("is sign language universal").word == "No"
    assert _decide("do I have to pay for the interpreter at the hospital") == Decision(
        "No", 2, "The patient does not have to pay for the interpreter.")
    assert _decide("did the american school for the deaf open in hartford").word == "Yes"
    assert _decide("is asl used in france").word == ""  # nothing in the passages states it


def test_either_or_is_the_option_a_passage_states():
    d = _decide("did the american school for the deaf open in hartford or boston")
    assert d.word == "Hartford" and d.n == 3
    # both options in one sentence ("BSL ... two-handed, while ASL ... one-handed"): not decided alone
    assert _decide("does ASL use a one-handed or a two-handed alphabet").word == ""


def test_the_choice_is_said_first_then_the_sentence_then_the_model_s_other_sentences():
    d = Decision("No", 1, "ASL and British Sign Language (BSL) are different languages.")
    text, added = answer_choice("Yes, they are related [1]. BSL uses two hands [1].", Choice("yes_no"), d)
    assert added and text == ("No: ASL and British Sign Language (BSL) are different languages [1]. "
                              "They are related [1]. BSL uses two hands [1].")
    text, added = answer_choice("Yes, you should do A or B [2].", Choice("options", ("patient", "hospital")),
                                Decision(""))
    assert not added and text.startswith('The passages do not decide between "patient" and "hospital".')
    assert "Yes," not in text
    text, _ = answer_choice("You can change the threshold with the slider in the settings tab [1]. It is 0.5 [1].",
                            Choice("yes_no"), Decision("Yes", 1, "You can change the threshold with the slider in "
                                                                 "the Status and settings tab."))
    assert text == ("Yes: You can change the threshold with the slider in the Status and settings tab [1]. "
                    "It is 0.5 [1].")  # the model's restatement of the deciding sentence is dropped


def test_a_flipped_yes_becomes_the_passage_s_no_in_the_final_check():
    read = [s.passage for s in GIVEN]
    checked = check("Yes, ASL is the same as BSL [1].", GIVEN, read, "Is ASL the same as BSL?", ContextOptions())
    assert checked.text == ("No: ASL and British Sign Language (BSL) are different languages [1]. "
                            "BSL uses a two-handed alphabet, while ASL uses a one-handed alphabet [1].")
    assert checked.verification.added == 1 and checked.verification.repaired == 1


PEOPLE = ("Laurent Clerc was a teacher from France. He arrived in 1816. "
          "Clerc co-founded the first school for the deaf in America with Thomas Gallaudet.")
LETTERS = ("The letters M and N both fold the fingers over the thumb. "
           "For M the thumb is under three fingers, while for N it is under two.")


def test_the_fact_sentence_is_the_one_that_answers():
    assert fact_sentence("who was Laurent Clerc", [PEOPLE]) == (0, PEOPLE.split(". ")[2])
    assert fact_sentence("when did the american school for the deaf open", [HISTORY.passage]) == (
        0, "The American School for the Deaf opened in Hartford in 1817.")
    assert fact_sentence("what is the difference between the letters M and N", [LETTERS]) == (
        0, "For M the thumb is under three fingers, while for N it is under two.")
    assert difference_pair("how do I tell M and N apart") == ("M", "N")
    assert fact_sentence("how do I sign thank you", [PEOPLE]) is None  # not a fact question


def test_the_fact_opens_its_passage_window():
    passages = [SimpleNamespace(text=PEOPLE + " " + " ".join(["He taught many students in Hartford."] * 12))]
    sel = select_sentences(passages, "who was laurent clerc", ContextOptions(window_chars=200, first_chars=200), None,
                           "who was laurent clerc")
    assert sel.fact == (passages[0].text, PEOPLE.split(". ")[2]) and sel.windows[0].startswith("Clerc co-founded")


def test_the_fact_opens_the_answer_and_the_models_other_sentences_follow():
    assert holds_fact("It opened in 1817 [3].", HISTORY.passage.split(". ")[0], "when did the school open")
    assert not holds_fact("He was a teacher from France [1].", PEOPLE.split(". ")[2], "who was laurent clerc")
    given = (HISTORY.__class__(1, "k/p.md", "People", "Clerc", PEOPLE, 0.8),)
    fact = "Clerc co-founded the first school for the deaf in America with Thomas Gallaudet."
    lead = Lead(cited_sentence(fact, 1), fact=fact)
    checked = check("Laurent Clerc was a teacher from France [1].", given, [PEOPLE], "who was laurent clerc",
                    ContextOptions(), lead)
    assert checked.text == ("Clerc co-founded the first school for the deaf in America with Thomas Gallaudet [1]. "
                            "Laurent Clerc was a teacher from France [1].")
    assert checked.verification.added == 1 and checked.verification.repaired == 0  # the model left it out


def test_the_select_stage_finds_the_lead_only_where_its_passage_is_about_the_question():
    passages = [SimpleNamespace(text="Clerc met Gallaudet in Paris. They sailed to America in 1816.")]
    sel = select_sentences(passages, "when did clerc come to america", ContextOptions(), {"come": 3},
                           "when did clerc come to america")
    assert sel.lead == "Clerc met Gallaudet in Paris. They sailed to America in 1816."  # the pronoun's sentence too
    sel = select_sentences(passages, "when did clerc sail to america from the moon", ContextOptions(), {"sail": 2},
                           "when did clerc sail to america from the moon")
    assert sel.fact is not None and sel.lead == ""  # the documents never say "moon": the model answers first
    sel = select_sentences([SimpleNamespace(text=LANGUAGES.passage)], "is asl the same as bsl", ContextOptions(), None,
                           "is asl the same as bsl")
    assert sel.decision.word == "No" and sel.decision.n == 1


def _given(*texts):
    return tuple(HISTORY.__class__(i, f"k/{i}.md", "T", "S", t, 0.5) for i, t in enumerate(texts, 1))


def test_a_yes_no_is_not_decided_by_a_sentence_about_something_else():
    offline = _given("ASL GPT is not an interpreter. It cannot replace a qualified human interpreter.",
                     "By default, everything in ASL GPT runs on your own computer, with no internet connection "
                     "needed once it is installed.")
    assert decide(choice("does asl gpt need internet"), "does asl gpt need internet", offline) == Decision(
        "No", 2, offline[1].passage)  # "internet" is not "interpreter", though both stem to "inter"
    hospital = _given("The hospital must provide and pay for a qualified interpreter.")
    q = "do i need to pay for an interpreter"
    assert decide(choice(q), q, hospital).word == ""  # who must pay is the hospital, not the one asking
    bounce = _given("## No bouncing on each letter\n\nMany beginners bounce the hand slightly with every letter. "
                    "The fingers should do the work while the hand stays in one small area.")
    assert decide(choice("should my hand bounce"), "should my hand bounce", bounce).word == ""  # advice: not a fact
    world = _given("Sign language is not universal. International Sign is used when Deaf people from different "
                   "countries meet at the World Federation of the Deaf.")
    q = "is sign language the same all over the world"
    d = decide(choice(q), q, world)
    assert (d.word, d.n, d.sentence) == ("No", 1, "Sign language is not universal.")


def test_an_undecided_yes_no_takes_back_only_a_guess():
    assert answer_choice("Eye contact matters [1].", Choice("yes_no"), Decision("")) == ("Eye contact matters [1].",
                                                                                        False)
    text, _ = answer_choice("Yes, it matters [1].", Choice("yes_no"), Decision(""))
    assert text == "The passages do not say yes or no to that directly. It matters [1]."
    # the guess restated without its "Yes" is still the guess; a sentence beside it stays
    q = "can the hospital have my kid interpret for me"
    text, _ = answer_choice("Yes, the hospital can have your kid interpret for you [1]. Hospitals must provide "
                            "interpreters [2].", choice(q), Decision(""), q)
    assert text == "The passages do not say yes or no to that directly. Hospitals must provide interpreters [2]."
    # a model that answered without a yes or no guessed nothing: its claim stays
    assert answer_choice("The hospital can have your kid interpret [1].", choice(q), Decision(""), q)[0] == (
        "The hospital can have your kid interpret [1].")


def test_no_as_a_word_of_the_sentence_is_no_opener():
    assert answer_choice("No bouncing on each letter [1].", Choice("yes_no"), Decision("")) == (
        "No bouncing on each letter [1].", False)


def test_who_is_held_by_the_person_the_fact_names():
    fact = "Cued Speech was developed in 1966 by R. Orin Cornett at Gallaudet."
    assert holds_fact("R. Orin Cornett made Cued Speech in 1966 [1].", fact, "who made cued speech")
    assert not holds_fact("Cued Speech makes sounds visible [1].", fact, "who made cued speech")


def test_which_came_first_is_decided_by_the_years_of_each_options_own_sentence():
    given = _given("The Americans with Disabilities Act (ADA) was signed into law on July 26, 1990.",
                   "The Registry of Interpreters for the Deaf (RID), founded in 1964, is the main organization.")
    q = "which is older the rid or the ada"
    d = decide(choice(q), q, given)
    assert (d.word, d.n, d.follow_n) == ("RID", 2, 1) and "1964" in d.sentence and "1990" in d.follow
    text, added = answer_choice("The ADA is older [1].", choice(q), d, q)
    assert text.startswith("RID: The Registry") and "1990 [1]." in text and added
    newer = "which is newer the rid or the ada"
    assert decide(choice(newer), newer, given).word == "ADA"
    both = _given("Section 504 of the Rehabilitation Act of 1973 came before the ADA.",
                  "The ADA was signed into law on July 26, 1990.")
    first = "which came first section 504 or the ada"
    assert decide(choice(first), first, both).word.endswith("504")  # 1973 follows 504, not the ADA
    undated = _given("The ADA protects access.", "The RID certifies interpreters.")
    assert decide(choice(q), q, undated).word == ""  # no years: not decided by dates


def test_a_decided_answer_says_the_passages_next_sentence_and_drops_a_sentence_saying_the_opposite():
    given = _given("Cued Speech is not a sign language at all. It uses handshapes near the mouth to show sounds.\n"
                   "Deaf clubs are social places.")
    q = "is cued speech a sign language"
    d = decide(choice(q), q, given)
    assert d.word == "No" and d.follow == "It uses handshapes near the mouth to show sounds."
    text, _ = answer_choice("Yes, Cued Speech is a sign language [1]. It was made in 1966 [1].", choice(q), d, q)
    assert text == ("No: Cued Speech is not a sign language at all [1]. It uses handshapes near the mouth to show "
                    "sounds [1]. It was made in 1966 [1].")
    unrelated = _given("Cued Speech is not a sign language at all.\n\n## Deaf clubs\n\nDeaf clubs are social places.")
    assert decide(choice(q), q, unrelated).follow == ""  # the next paragraph is about something else


def test_advice_to_parents_or_learners_answers_a_question_asked_as_i():
    given = _given("Parents do not need to be fluent before starting; babies benefit from signing that grows.")
    q = "do i need to be fluent before i sign to my deaf baby"
    assert decide(choice(q), q, given).word == "No"


def test_another_year_or_place_than_the_fact_sentences_does_not_hold_the_fact():
    fact = "Gallaudet College became Gallaudet University in 1986."
    q = "when did gallaudet college become a university"
    assert not holds_fact("Gallaudet College grew out of a school established in 1857 [1].", fact, q)
    assert holds_fact("It became a university in 1986 [1].", fact, q)
    where = "Many of the deaf families had ancestors from the Weald, an area of Kent in England."
    q = "where did the deaf families on marthas vineyard come from"
    assert not holds_fact("Hereditary deafness was common in Chilmark [1].", where, q)
    assert holds_fact("They came from Kent in England [1].", where, q)


def test_a_who_did_question_gets_the_sentence_with_its_own_verb_first():
    texts = ["Gallaudet grew out of a school established in 1857 on land donated by Amos Kendall. In 1864 Congress "
             "passed a law letting it grant degrees, and President Abraham Lincoln signed it."]
    found = fact_sentence("who signed the law that let gallaudet give degrees", texts)
    assert found is not None and "Lincoln" in found[1]


def test_a_who_question_naming_a_place_gets_the_sentence_about_that_place():
    texts = ["In Britain he approached the Braidwood family, who ran schools using an oral method. In London he met "
             "the Abbé Sicard, head of the national school for the deaf in Paris."]
    assert "Sicard" in fact_sentence("who ran the paris school for the deaf", texts)[1]  # not the Braidwoods


def test_a_place_after_the_is_a_place_and_a_month_is_not():
    texts = ["The protest lasted from March 6 to March 13. Demonstrators marched to the U.S. Capitol."]
    assert fact_sentence("where did the protesters march", texts) == (0, "Demonstrators marched to the U.S. Capitol.")


def test_an_option_pairs_with_the_word_of_its_kind_and_is_read_with_the_sentence_leaning_on_it():
    assert choice("is asl part of the lsf family or banzsl").options == ("lsf family", "banzsl")
    assert choice("is 1000 signed with one hand or two").options == ("one hand", "two")
    assert choice("should i hold my hand at my chin or shoulder").options == ("chin", "shoulder")
    given = (Source(1, "k/22.md", "Families", "LSF", "LSF is the ancestor of several sign languages, which together "
                    "are called the LSF family. ASL belongs to this family.", 0.9),
             Source(2, "k/22.md", "Families", "BANZSL", "Linguists group BSL, Auslan and NZSL as one family, sometimes "
                    "called BANZSL.", 0.8))
    q = "is asl part of the lsf family or banzsl"
    d = decide(choice(q), q, given)
    assert (d.word, d.n) == ("LSF family", 1) and d.sentence.endswith("ASL belongs to this family.")


def test_advice_decides_a_should_question_whose_subject_is_the_act_itself():
    given = (Source(1, "k/08.md", "Habits", "Habits", "Mouthing the names of individual letters (saying \"bee, oh, oh, "
                    "kay\") is not helpful and marks a beginner.", 0.9),)
    for q in ("should i mouth the letter names when i spell", "is it helpful to mouth the letter names"):
        assert decide(choice(q), q, given).word == "No"


def _yn(q, *texts):
    return decide(choice(q), q, _given(*texts))


def test_a_stated_contrary_of_the_asked_predicate_decides_no():
    d = _yn("is bsl fingerspelling one handed", "BSL fingerspelling uses two hands, with the dominant hand pointing.")
    assert (d.word, d.n) == ("No", 1)
    assert _yn("can kids get over the counter hearing aids",
               "Over the counter hearing aids are sold for adults with mild hearing loss.").word == "No"
    assert _yn("is tipping allowed at the club", "Tipping is forbidden at the club.").word == "No"
    assert _yn("is tipping allowed at the club", "Tipping is allowed at the club.").word == "Yes"
    # the contrary denied is no contrary stated
    assert _yn("is tipping allowed at the club", "Tipping is not forbidden at the club.").word != "No"


def test_a_sentence_without_the_asked_predicate_decides_nothing():
    assert _yn("is it rude to walk between two people signing",
               "Walking between two people who are signing is a common worry for hearing newcomers.").word == ""
    assert _yn("is the train to boston expensive",
               "The train to Boston is a popular choice for commuters.").word == ""
    assert _yn("is the bus downtown cheap", "The bus downtown is cheap.").word == "Yes"
    # a denial may say one word of the claim in its own words
    assert _yn("is asl based on english",
               "ASL is not a signed version of English, and it did not grow out of English.").word == "No"
    # two words of the claim missing: a sentence about something else
    assert _yn("is international sign a real language like asl",
               "ASL is a complete natural language with its own grammar, not a way of signing English.").word == ""


def test_the_subject_may_be_left_to_it_when_its_passage_keeps_saying_it():
    d = _yn("is cued speech a sign language", "Cued Speech was developed in 1966. Cued Speech uses handshapes near the "
            "mouth. Cued Speech shows the sounds of speech. It is not a sign language.")
    assert (d.word, d.sentence) == ("No", "It is not a sign language.")


def test_a_role_said_of_another_named_subject_decides_nothing():
    school = ("The school opened in Hartford in April 1817, with Gallaudet as principal and Clerc as head teacher.")
    assert _yn("was clerc the principal of the hartford school", school).word == ""
    team = "The team was led by Anna as captain and Marie as goalkeeper."
    assert _yn("was marie the captain of the team", team).word == ""
    assert _yn("was anna the captain of the team", team).word == "Yes"


@pytest.mark.parametrize("question", ["do you have to sign if for a conditional", "do you need a license to interpret",
                                      "should you look at the hands"])
def test_a_question_about_anyone_as_you_is_a_yes_no_choice(question):
    # "you" is anyone here, asked whether one must; "can you tell me" / "do you know" stay requests (above)
    assert choice(question) == Choice("yes_no")


def test_do_you_have_to_takes_back_the_models_guessed_yes():
    passage = ("Conditional sentences, \"if this, then that,\" are marked nonmanually. The condition is signed with raised "
               "eyebrows, often with the head tilted and sometimes introduced by a sign such as IF or SUPPOSE. The sign "
               "IF is optional; the eyebrows alone can mark the condition.")
    given = (Source(1, "knowledge/13.md", "Conditional sentences", "Conditional", passage, 0.9),)
    q = "do you have to sign if for a conditional"
    text, _ = answer_choice("Yes, you have to sign if for a conditional sentence [1].", choice(q),
                            decide(choice(q), q, given), q)
    assert text.startswith("The passages do not say yes or no")  # "IF is optional" is not read as a No yet


MOUTH = ("Mouth morphemes\n- MM: lips pressed together and pushed out slightly. It means normally, regularly, or in a "
         "relaxed way.\n- CHA: the mouth opens from a tense position. It means large or tall.")


def test_what_a_glossary_term_means_is_the_sentence_after_its_form():
    assert defined_term("what does mm mean on the mouth") == ["mm"]  # where it is said is not part of the term
    assert defined_term("what does CODA mean") == ["coda"]
    assert fact_sentence("what does mm mean on the mouth", [MOUTH]) == (
        0, "MM: lips pressed together and pushed out slightly. It means normally, regularly, or in a relaxed way.")
    fact = fact_sentence("what does mm mean on the mouth", [MOUTH])[1]
    checked = check("MM: lips pressed together and pushed out slightly [1].", _given(MOUTH), [MOUTH],
                    "what does mm mean on the mouth", ContextOptions(), Lead(cited_sentence(fact, 1), fact=fact))
    assert checked.text == ("MM: lips pressed together and pushed out slightly [1]. It means normally, regularly, or "
                            "in a relaxed way [1].")  # each sentence cited; the model's form alone only restates it


def test_how_old_is_asks_for_a_date_and_an_age_for_a_number():
    assert question_kind("how old is asl") == "when" and question_kind("how long ago did dpn happen") == "when"
    assert question_kind("how old do you have to be for an implant") == "number"


def test_an_option_is_read_with_the_meaning_after_it_and_never_by_its_contrary():
    mouth = MOUTH + "\n- OO: lips rounded and pursed. It means small, thin, or delicate."
    asked = "which mouth morpheme means small, mm, cha or oo"
    assert choice(asked).options == ("mm", "cha", "oo")  # the lead-in before the first comma is no option
    d = decide(choice(asked), asked, _given(mouth))
    assert d.word == "OO" and d.sentence == "OO: lips rounded and pursed. It means small, thin, or delicate."
    asked = "which mouth morpheme means small, mm or cha"  # CHA "means large": the contrary decides nothing
    assert decide(choice(asked), asked, _given(mouth)).word == ""


VOCABULARY = ("Answers: YES and NO\n- **YES**: Make an S hand (a fist) and bend it up and down at the wrist.\n"
              "- **NO**: Extend the index and middle fingers together alongside the thumb, then snap the two fingers "
              "down to close against the thumb.\n\nIn everyday conversation, a head nod or head shake alone often "
              "answers a question without any hand sign.")


def test_how_to_sign_a_word_is_answered_by_its_dictionary_entry():
    entry = VOCABULARY.split("\n")[2][2:]
    assert fact_sentence("how do you sign no", [VOCABULARY]) == (0, entry)
    checked = check("In everyday conversation, a head nod or head shake alone often answers a question without any "
                    "hand sign [1].", _given(VOCABULARY), [VOCABULARY], "how do you sign no", ContextOptions(),
                    Lead(cited_sentence(entry, 1), fact=entry))
    assert checked.text.startswith("**NO**: Extend the index") and checked.text.endswith("without any hand sign [1].")
    assert fact_sentence("how do you sign the letter I", [VOCABULARY]) is None  # a letter's question is not this
