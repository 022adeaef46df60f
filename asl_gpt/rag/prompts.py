"""The answer prompts: numbered passages, the conversation so far, the question.

Passages and instruction sit in the system turn: there the small model gives short answers; in the user turn it
copied whole passages or listed bare citations (docs/answers-history.md). There is no worked example (the model
copied it). Refusal and citation numbering are enforced in code (answerability.py, citations.py), not left to the
prompt.
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

    Naming the question as new, before and after the passages, keeps the model from repeating its previous answer.
    """
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
