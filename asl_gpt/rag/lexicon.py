"""Every hand-tuned word list of the answer path, each named and explained, in one place.

Pure data. The lists were written for English questions about ASL and tuned on knowledge/ with
`asl-gpt bench answers`; a word added here changes what the stage that reads the list decides, named beside it.
"""

from __future__ import annotations

# -- every stage: words that say nothing about a topic -------------------------------------------------------
# Function words skipped by BM25, the vocabulary, content words and topic words (correction.py, text.py).
STOPWORDS = frozenset("""a an and are as at be by can do does for from has have how i in is it its me my of on or
that the their them there these this to was what when where which who why will with you your""".split())

# Question words that name no topic ("how fast should i go", "can you tell me"): never a reason to refuse
# (questions.key_terms) nor a content word an answer sentence must share with its passage (grounding).
GENERIC = frozenset("""should would could might must shall go goes going get gets make makes made know tell need
want use used like please mean means meaning whats what's hows who's thing things way ways good best someone people
person something anything really just also very much many more most some any about into does did done doing say
says said ask asked give show explain called call there here one ones got getting ppl pls plz thx all over every
everywhere
wat wht whta waht hw""".split())  # the last: "what" and "how" as they are often typed or signed
# Question words a question opens with: a first word one edit from one is that word mistyped ("whay is vri"),
# not a topic the documents lack (questions.key_terms).
QUESTION_OPENERS = ("what", "whats", "why", "who", "whos", "how", "where", "when", "which")

# -- retrieve: follow-ups -------------------------------------------------------------------------------------
# Words by which a question points back at the conversation instead of naming its topic (search.py).
FOLLOW_UP_WORDS = frozenset("it its they them their theirs that this those these he she his her him one ones "
                            "same there".split())
# Openings of a question that continues the previous one ("and why", "what about J").
FOLLOW_UP_OPENERS = ("and ", "what about", "how about", "also", "so ", "then ", "but ", "or ")

# -- what a question asks (questions.question_kind) ---------------------------------------------------------------
WHO_WORDS = frozenset("who whom whose".split())  # a question about people
# "what year", "which century": a question about a date, like "when".
WHEN_NOUNS = frozenset("year date day century".split())
# "how many/much/fast/old...": a question about a quantity, not about steps.
HOW_QUANTITY = frozenset("many much fast old long far often".split())
# Words naming the kind of thing compared, not the thing ("the letters M and N": M and N are compared).
COMPARED_KINDS = frozenset("letter letters sign signs".split())

# -- select: what kind of fact a sentence holds ---------------------------------------------------------------
# Capitalised words that name no person or place in these documents (languages, the Deaf community, glosses):
# a "who" sentence needs a real name (text.names).
NOT_NAMES = frozenset("i asl deaf american sign language languages english french british the a an it this that "
                      "these they he she we you in on at for when where who how what america north south east west "
                      "united states new england europe".split())
# Words that date a sentence without a year ("in April", "a century ago"): it can answer "when".
WHEN_WORDS = frozenset("january february march april may june july august september october november december "
                       "century centuries decade decades ago".split())
# A preposition before a capitalised word places something ("in Hartford"): it can answer "where".
PLACE_PREPOSITIONS = frozenset("in at from to near on".split())
# Words that state a quantity: a sentence holding one can answer "how many/much/fast".
NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten dozen hundred thousand half most few "
                         "per second seconds minute minutes".split())
# First words after "what is" that make it no definition question ("what year was dpn", "what sign means yes").
NOT_DEFINED = frozenset("year years date day time century sign signs difference best way kind type happened "
                        "happens percentage".split())
# Words of "how do I sign X" that are not X: the dictionary entry must be all that is left (retrieval.preferred).
HOW_TO_SIGN = frozenset("sign signs say whats word asl".split())
# Words by which a "who" sentence says what made a person known (a deed), not only their job or year.
DEEDS = frozenset("founded found founder started created invented developed designed coined wrote published publish "
                  "led became elected named appointed opened brought taught established discovered proved won "
                  "protest protested first".split())
# Words that name the differing detail in a "difference between X and Y" sentence.
DIFFERENCE_WORDS = frozenset("differ differs different difference unlike whereas while but instead only "
                             "distinguish distinguishes apart tell".split())

# -- check: polarity ------------------------------------------------------------------------------------------
# Words that negate a clause ("does not", "never"); with a contraction the "n't" is its own mark (text.polarity).
NEGATIONS = frozenset("not no never neither nor none cannot without n't nothing nobody".split())
# Words that say two things are the same / differ: "X is the same as Y" against "X and Y differ".
SAME_WORDS = frozenset("same identical alike equal equivalent universal".split())
DIFFERENT_WORDS = frozenset("different difference differences differ differs differently distinct unlike separate varies "
                            "vary".split())
# Obligation: "must/required" against its denial "need not/not required/optional"; advice alike ("should I X" is
# answered by "X is not helpful" as by "you need not X").
MUST_WORDS = frozenset("must need needs needed should required require requires mandatory obligated obliged helpful "
                       "recommended advised advisable".split())
OPTIONAL_WORDS = frozenset("optional voluntary avoid".split())  # "avoid X": X is what one should not do
# Which way something goes: "confidence rises when the letters are clear" against "the confidence is low because
# the letters are clear" (text.polarity; a contradiction only between two sentences stating the same claim).
UP_WORDS = frozenset("high higher highest rise rises rising rose raise raises raised increase increases increased "
                     "improve improves improved".split())
DOWN_WORDS = frozenset("low lower lowest fall falls falling fell drop drops dropped lowered decrease decreases "
                       "decreased worse worsens".split())
# Words that name the one asking or the one addressed: "do I need" and "you do not need" have the same subject.
# The roles the one asking takes in these documents count as them ("the patient does not have to pay").
PERSON_WORDS = frozenset("i me my we us our you your one someone people person signer signers patient patients "
                         "student students user users parent parents learner learners beginner beginners".split())
# A choice question's words asking which came first, or which came last ("which is older, the RID or the ADA").
EARLIER_WORDS = frozenset("older oldest first earlier earliest before sooner".split())
LATER_WORDS = frozenset("newer newest later latest last younger recent".split())
# Question words of a choice question that name no option ("should I use A or B": "use" is asked of both).
CHOICE_FILLER = frozenset("better rather prefer preferred instead either".split())
# The verbs a yes/no question opens with ("is X the same as Y", "do I need", "can I").
YES_NO_OPENERS = frozenset("is are was were do does did can could should must may will would has have am".split())

# How the model says its passages do not answer (the prompt asks it to "say so"): such a draft is a refusal, kept as
# one when the quotes that would stand in for it share no topic word with what the user asked (a refusal is never
# replaced by an irrelevant quote).
MODEL_REFUSALS = ("could not find", "couldn't find", "cannot find", "can't find", "do not answer", "don't answer",
                  "does not answer", "do not mention", "does not mention", "don't mention", "doesn't mention",
                  "no information", "not mentioned", "do not contain", "does not contain", "cannot answer",
                  "can't answer", "unable to answer", "do not provide", "does not provide", "not provided")

# -- check: a yes/no question's claim against its contrary ----------------------------------------------------
# General English pairs of contraries (word forms: "hand" also reads "hands", "handed"): a sentence stating one
# side about the question's subject, where the question asks the other, says No ("is BSL fingerspelling one
# handed" <- "BSL fingerspelling uses two hands"). Same/different and must/optional are read by text.polarity.
CONTRARIES = tuple((tuple(a.split()), tuple(b.split())) for a, b in (
    ("one hand", "two hand"), ("one hand", "both hand"), ("left hand", "right hand"),
    ("allowed", "forbidden"), ("allowed", "prohibited"), ("permitted", "forbidden"), ("permitted", "prohibited"),
    ("legal", "illegal"), ("required", "optional"), ("rude", "polite"), ("before", "after"),
    ("early", "late"), ("earlier", "later"), ("kid", "adult"), ("child", "adult"), ("children", "adult"),
    ("free", "paid"), ("true", "false"), ("easy", "hard"), ("easy", "difficult"), ("formal", "informal"),
    ("possible", "impossible"), ("necessary", "unnecessary"), ("raised", "lowered"),
    ("open", "closed"), ("fast", "slow"), ("faster", "slower"), ("increase", "decrease"),
    ("natural", "artificial"), ("small", "large"), ("small", "big"), ("thin", "thick"), ("short", "tall"),
    ("short", "long"), ("high", "low"), ("near", "far"),
))
