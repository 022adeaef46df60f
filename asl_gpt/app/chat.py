"""Chat turns for the Gradio chatbot: a question (signed or typed) streamed through the assistant.

Signed and typed questions take the same path (`Assistant.ask_stream`, as `asl-gpt ask` does); only
the label differs, so a user can compare. The label says truthfully where the text came from:
*Signed* (recognised, untouched; with its confidence), *Signed and edited* (the recognised reading and
its confidence, then the user's text) or *Typed* (no confidence: nothing was recognised). Sources come as a collapsible "Sources" message whose
children, one per numbered passage, open to the title, section and passage. The chain gets a clean
history (`turns`: plain role/content dicts) rather than the decorated chatbot messages, and only the part
of it the question leans on: a question that names its own topic is asked as a first one
(`conversation.history_for`), so earlier, unrelated turns cannot steer it. When the checks change the
streamed answer (a quote, a sentence no passage holds dropped), the final answer says so.

Documents and uploads are untrusted, and an answer may repeat them: every text that did not come
from this module is passed through `markdown_text` before the chatbot renders it as Markdown, so it
can neither write HTML nor make a link, an image or a code block (Gradio's sanitiser runs after
that, but is not relied on alone).
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from typing import Iterator

from asl_gpt.app.pending import Turn
from asl_gpt.app.practice import spelling_answer, spelling_question
from asl_gpt.app.wording import WEB_FIXES, web_text
from asl_gpt.errors import AslGptError, advised
from asl_gpt.rag.citations import says_corrected
from asl_gpt.rag.conversation import history_for, rewritten

log = logging.getLogger(__name__)

# Backslash-escaped for Markdown: `\` first (so an input `\[` cannot undo the escape of its `[`),
# brackets (links, images, reference definitions, footnotes), backticks and tildes (code spans and
# fenced blocks, which Gradio hands to mermaid), and `$` (Gradio's LaTeX). `<`, `>` and `&` become
# entities: no raw HTML, autolink or entity-encoded tag survives.
_MD_SPECIAL = re.compile(r"([\\`\[\]~$])")
# A citation marker [n] stays as written (tests and readers see "[1]"): alone it cannot be a link, since
# every bracket that could open a link or define a reference target stays escaped.
_CITATION = re.compile(r"\\\[(\d{1,3})\\\](?!\s*\\?[(\[:])")
_INDENT = re.compile(r"^[ \t]{4,}", re.MULTILINE)  # 4+ spaces open an indented code block, which shows entities raw


def markdown_text(text: str) -> str:
    """Untrusted text (a passage, an answer, a title, an error) made safe to render as Markdown.

    Emphasis, headings and lists still render; HTML, links, images and code do not: their
    characters are shown as typed."""
    out = html.escape(str(text), quote=False)
    out = _CITATION.sub(r"[\1]", _MD_SPECIAL.sub(r"\\\1", out))
    return _INDENT.sub("   ", out)


def _code(text: str) -> str:
    """Recognised text as a code span (Markdown shows its content literally), unless a backtick or a
    line break could end the span early: then as escaped text."""
    return f"`{text}`" if text and not re.search(r"[`\n\r]", text) else markdown_text(text)


def user_message(q: Turn, corrected: str | None = None, asked: str | None = None) -> dict:
    """The question as shown, labelled with where it came from; a signed one shows the raw and corrected
    text, an edited one the reading it started from."""
    if q.source in ("signed", "edited"):
        raw = q.recognised or q.text
        bits = [f"recognised: {_code(raw)}"]
        if q.source == "signed" and corrected and corrected != raw:
            bits.append(f"corrected: {_code(corrected)}")
        if q.confidence is not None:
            bits.append(f"confidence {q.confidence:.2f}" + (" (below the threshold, restored)" if q.low_confidence else ""))
        label = "**Signed**" if q.source == "signed" else "**Signed and edited**"
        head = label + " · " + " · ".join(bits)
        return {"role": "user", "content": f"{head}\n\n{markdown_text(asked or q.text)}"}
    return {"role": "user", "content": f"**Typed**\n\n{markdown_text(asked or q.text)}"}


# A cited passage may have matched the search less well than an uncited one: relevance is the search's score, not
# how much the answer used it. Said once per list, in the group itself.
SOURCES_NOTE = ("*Relevance* is how well a passage matched the search (0 to 1), not how much the answer used it: "
                "a cited passage may show less than one the answer did not need.")


def sources_messages(sources, note: str = "") -> list[dict]:
    """A collapsible 'Sources' message and one collapsible child per passage ([n] title — section)."""
    if not sources:
        return []
    parent = f"sources-{uuid.uuid4().hex[:12]}"  # unique per message: no counter shared by all sessions
    if not note and len({bool(s.cited) for s in sources}) == 2:
        note = SOURCES_NOTE
    msgs = [{"role": "assistant", "content": note,
             "metadata": {"title": f"Sources ({len(sources)})", "id": parent, "status": "done"}}]
    for s in sources:  # in the answer's numbering: [n] in the text is the n-th here
        # The title is rendered as Markdown too (Gradio 6 draws a message's metadata title with the same
        # renderer); an upload's path on the server is cut to its file name (web_text), as in every message.
        title = markdown_text(f"[{s.n}] {s.title or s.path}"
                              + (f" — {s.section}" if s.section and s.section != s.title else ""))
        body = (f"{markdown_text(s.passage.strip())}\n\n*{markdown_text(web_text(s.path))}* · relevance {s.score:.2f}"
                + (" · cited" if s.cited else ""))
        msgs.append({"role": "assistant", "content": body,
                     "metadata": {"title": title, "parent_id": parent, "status": "done"}})
    return msgs


def answer_turn(backend, q: Turn, chat: list[dict], turns: list[dict]) -> Iterator[tuple[list[dict], list[dict], str]]:
    """Yield (chatbot messages, clean turns, status line) as the answer streams.

    Errors (empty/oversized question, index problems) become an assistant message; the question
    stays in the chat, so nothing the user typed or signed is lost.
    """
    chat = list(chat or [])
    turns = list(turns or [])
    user = user_message(q)
    chat.append(user)
    word = spelling_question(q.text)
    if word is not None:  # "how do I spell X": X's handshapes drawn (asl_gpt.app.practice), not the knowledge base
        chat.append({"role": "assistant", "content": spelling_answer(word)})
        turns.extend([{"role": "user", "content": q.text},
                      {"role": "assistant", "content": f"{word.upper()} is spelled {'-'.join(word.upper())}."}])
        yield _snap(chat), list(turns), "spelled letter by letter"
        return
    yield _snap(chat), list(turns), "searching the knowledge base…"
    from asl_gpt.rag.chain import Answer, Retrieved, Token  # lazily: the chain loads LangChain

    answer = {"role": "assistant", "content": ""}
    said = ""  # the LLM's words so far, as written (escaped whole at each token: an indent spans tokens)
    try:
        events = backend.ask_stream(q.text, history=history_for(q.text, turns), raw=(q.recognised or None) if q.source == "signed" else None)
        for ev in events:
            match ev:
                case Retrieved():
                    corrected = ev.correction.corrected if ev.correction is not None else None
                    chat[-1] = user_message(q, corrected, ev.query)  # the raw, corrected and asked forms
                    chat.append(answer)
                    yield _snap(chat), list(turns), f"{len(ev.sources)} passages found; waiting for the LLM…"
                case Token():
                    said += ev.text
                    answer["content"] = markdown_text(said)  # streamed as it comes (the LLM's words, not an error)
                    yield _snap(chat), list(turns), "answering…"
                case Answer():
                    yield from _final(chat, turns, answer, ev, said)
                    return
    except AslGptError as e:
        if answer not in chat:
            chat.append(answer)
        msg = web_text(e)
        answer["content"] = f"⚠ {markdown_text(msg)}"
        yield _snap(chat), list(turns), markdown_text(msg)


def _snap(chat: list[dict]) -> list[dict]:
    """A copy per yield: the streamed answer dict is mutated in place between yields."""
    return [dict(m) for m in chat]


CORRECTED_NOTE = "*Corrected against the source: the checks changed the answer shown while it streamed.*"
def _final(chat, turns, answer, ev, said: str = ""):
    asked = ev.question
    if ev.status == "answered":
        # A repaired answer says so in its own text (rag.citations.CORRECTED); other changes get this note.
        noted = says_corrected(ev.text)
        answer["content"] = markdown_text(ev.text) + (f"\n\n{CORRECTED_NOTE}" if rewritten(said, ev) and not noted else "")
        chat.extend(sources_messages(ev.sources))
        status = f"answered in {ev.timings.get('total_s', 0):.1f} s"
    elif ev.status == "not_found":
        answer["content"] = web_text(advised(ev.text, ev.fix, WEB_FIXES))
        status = "not in the knowledge base"
    else:  # llm_error: what streamed (if anything), the failure, and the passages found
        shown = (markdown_text(ev.text) + "\n\n") if ev.text else ""
        err = web_text(ev.error)
        answer["content"] = f"{shown}⚠ The LLM did not answer: {markdown_text(err)}. The passages found are below."
        chat.extend(sources_messages(ev.sources))
        status = f"LLM error: {markdown_text(err)}"
    turns.extend([{"role": "user", "content": asked}, {"role": "assistant", "content": ev.text or ""}])
    yield _snap(chat), list(turns), status
