"""The answer prompt: numbered passages, the conversation so far, the question.

Small local models follow short, concrete instructions best; refusal and citation numbering are
enforced in code (chain.py), so the prompt only has to ask for a grounded, cited, short answer.
"""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

SYSTEM = (
    "You are ASL GPT, a helpful assistant about American Sign Language, fingerspelling and Deaf culture. "
    "Answer the user's question using only the numbered passages below. After each fact, cite the passage "
    "it comes from as [1], [2] and so on. If the passages do not answer the question, say that the knowledge "
    "base does not cover it. Answer in two to four plain sentences.\n\nPassages:\n{passages}"
)

PROMPT = ChatPromptTemplate.from_messages([
    ("system", SYSTEM),
    MessagesPlaceholder("history"),
    ("human", "{question}"),
])


def format_passages(passages, max_chars: int = 1400) -> str:
    """`[n] Title - Section` then the passage text, numbered from 1 in the given order."""
    blocks = []
    for n, p in enumerate(passages, 1):
        head = " - ".join(x for x in (p.title, p.section) if x)
        text = p.text if len(p.text) <= max_chars else p.text[:max_chars].rsplit(" ", 1)[0] + " …"
        blocks.append(f"[{n}] {head}\n{text}")
    return "\n\n".join(blocks)
