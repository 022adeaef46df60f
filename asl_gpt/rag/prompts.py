"""The answer prompts: numbered passages, the conversation so far, the question.

Measured on Qwen2.5-Coder-0.5B with the default knowledge/ (k=3, the first 8 evaluation questions):
passages and instruction in the system turn gave short, mostly right answers (5 of the first 6 right
before the time limit, 1817, J, Stokoe, Jordan, topic-comment); the same text in the user turn made the
model copy whole passages (median 519 characters) or list bare citations ("[1] [2] [3]"), 4/8 right.
On a tiny 6-document test set the order was reversed (user turn 6-7/8, system turn 4-5/8). A second
LLM call with the other layout, for answers with no words, cost a second wait; the chain now quotes the
passages' best sentences instead (windows.py). A worked example in the instruction
made the model copy the example (2-3/8): there is none. Refusal and citation numbering are enforced in
code (chain.py), not left to the prompt.
"""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

ROLE = "You are ASL GPT, a helpful assistant about American Sign Language, fingerspelling and Deaf culture."
INSTRUCTION = ("Answer the question using only the numbered passages. Cite the passage number like [1] after each "
               "fact. If the passages do not answer it, say so. Answer in two to four plain sentences.")

PROMPT = ChatPromptTemplate.from_messages([
    ("system", ROLE + " " + INSTRUCTION + "\n\nPassages:\n{passages}"),
    MessagesPlaceholder("history"),
    ("human", "{question}"),
])


def follow_up_turn(question: str, passages: str) -> str:
    """The user turn of a follow-up that extends the conversation's own prompt (conversation.py): the question, its best
    passage (under its number when given before) and the passages not given before (numbered on from the earlier
    ones), and the question again.

    Measured on Qwen2.5-Coder-0.5B (first question then follow-up, 3 pairs): "More passages: ... Question: q"
    made the model repeat its previous answer for "how fast should i go"; naming the question as new, before
    and after the passages, answered it (1-3 letters per second [4])."""
    if not passages:
        return f"New question: {question}"
    return f"New question: {question}\n\nPassages for it:\n{passages}\n\nAnswer the new question: {question}"


def format_passages(passages, max_chars: int = 1400, texts: list[str] | None = None, first: int = 1) -> str:
    """`Passage [n] (from "Title", section "Section"):` then its text, numbered from `first` in the given order.

    `texts` replaces the passages' own texts (the sentence windows of `windows.window`)."""
    blocks = []
    for i, p in enumerate(passages):
        n = first + i
        where = f'from "{p.title}"' + (f', section "{p.section}"' if p.section else "")
        text = texts[i] if texts is not None else p.text
        text = text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0] + " …"
        blocks.append(f"Passage [{n}] ({where}):\n{text}")
    return "\n\n".join(blocks)
