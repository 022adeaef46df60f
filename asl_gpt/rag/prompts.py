"""The answer prompts: numbered passages, the conversation so far, the question.

Small local models follow short, concrete instructions best, and best when the instruction comes right
after the passages, in the user's turn. Measured on Qwen2.5-Coder-0.5B over 8 grounded questions (see
the report of `asl-gpt bench rag`): passages + question + instruction in the user turn answered 6-7/8,
the same text in the system turn 4-5/8, and a worked example in the instruction made the model copy the
example (2-3/8): so there is none. Refusal and citation numbering are enforced in code (chain.py); the
fallback prompt is used when the first one yields no usable answer (e.g. a bare list of citations).
"""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

ROLE = "You are ASL GPT, a helpful assistant about American Sign Language, fingerspelling and Deaf culture."
INSTRUCTION = ("Answer the question using only the numbered passages. Cite the passage number like [1] after each "
               "fact. If the passages do not answer it, say so. Answer in two to four plain sentences.")

PROMPT = ChatPromptTemplate.from_messages([
    ("system", ROLE),
    MessagesPlaceholder("history"),
    ("human", "Passages:\n{passages}\n\nQuestion: {question}\n\n" + INSTRUCTION),
])

FALLBACK_PROMPT = ChatPromptTemplate.from_messages([
    ("system", ROLE + " " + INSTRUCTION + "\n\nPassages:\n{passages}"),
    MessagesPlaceholder("history"),
    ("human", "{question}"),
])


def format_passages(passages, max_chars: int = 1400) -> str:
    """`Passage [n] (from "Title", section "Section"):` then its text, numbered from 1 in the given order."""
    blocks = []
    for n, p in enumerate(passages, 1):
        where = f'from "{p.title}"' + (f', section "{p.section}"' if p.section else "")
        text = p.text if len(p.text) <= max_chars else p.text[:max_chars].rsplit(" ", 1)[0] + " …"
        blocks.append(f"Passage [{n}] ({where}):\n{text}")
    return "\n\n".join(blocks)
