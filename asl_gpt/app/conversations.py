"""Each browser's conversation, kept by the server: a reload shows it again, and a question asked while an answer
streams waits its turn, visibly, instead of being dropped.

The page keeps a random id in its localStorage (page.js: `aslGptBrowserId`) and sends it with every question;
the server holds the conversation under that id: the chat as shown, the clean history the chain reads, and the
questions waiting to be asked. Only the server writes the chat, one answer at a time per conversation (`begin` /
`next` / `end`), so a second question can never start from a stale copy of the chat. Conversations live in memory
(the least recently used dropped beyond `MAX_CONVERSATIONS`) and, when a folder is given, in one JSON file each,
so they also survive a restart of the app. Pure Python: no Gradio here.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from asl_gpt.app.pending import Turn

log = logging.getLogger(__name__)

MAX_CONVERSATIONS = 200  # browsers remembered at once (memory, and files in the folder)
MAX_MESSAGES = 300  # chat messages kept per conversation (a source list is several): the oldest go first
MAX_TURNS = 40  # history messages kept for the chain (it reads the last rag.history_turns exchanges of them)
MAX_WAITING = 5  # questions waiting behind the one being answered; more is almost surely a stuck key
_ID = re.compile(r"[a-f0-9]{16,64}")  # what page.js makes: hex only, so it is always a safe file name


def valid_id(browser_id: str | None) -> str | None:
    """The browser's id if it is one page.js could have made, else None."""
    b = (browser_id or "").strip().lower()
    return b if _ID.fullmatch(b) else None


@dataclass
class Conversation:
    """One browser's conversation. Callers change it only through `Conversations`."""

    chat: list[dict] = field(default_factory=list)  # the chatbot's messages, as shown
    turns: list[dict] = field(default_factory=list)  # plain role/content history for the chain
    waiting: deque = field(default_factory=deque)  # Turns asked while an answer streamed
    busy: bool = False  # an answer is being written
    generation: int = 0  # bumped by a new conversation: an answer still streaming for the old one stops


class Conversations:
    """Conversations by browser id, bounded, optionally kept in `folder` (one JSON file each)."""

    def __init__(self, folder: Path | None = None, size: int = MAX_CONVERSATIONS):
        self.folder = Path(folder) if folder is not None else None
        self.size = size
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, browser_id: str) -> Conversation:
        with self._lock:
            c = self._items.get(browser_id)
            if c is None:
                c = self._items[browser_id] = self._load(browser_id)
            self._items.move_to_end(browser_id)
            while len(self._items) > self.size:
                old, _ = self._items.popitem(last=False)
                self._remove(old)
            return c

    def ask(self, browser_id: str, turn: Turn) -> bool:
        """Queue `turn`; False when too many are waiting already (the caller keeps the text and says so)."""
        c = self.get(browser_id)
        with self._lock:
            if len(c.waiting) >= MAX_WAITING:
                return False
            c.waiting.append(turn)
            return True

    def begin(self, browser_id: str) -> bool:
        """Claim the right to answer this conversation's waiting questions; False when an answer is already being
        written (that one will take the new question when it ends)."""
        c = self.get(browser_id)
        with self._lock:
            if c.busy:
                return False
            c.busy = True
            return True

    def next(self, browser_id: str) -> tuple[Turn, int] | None:
        """The next waiting question and the conversation's generation, or None, which also ends the claim (in the
        same step, so a question queued meanwhile is never left behind)."""
        c = self.get(browser_id)
        with self._lock:
            if not c.waiting:
                c.busy = False
                return None
            return c.waiting.popleft(), c.generation

    def end(self, browser_id: str) -> None:
        """Release the claim (an answer was cut short: an error, or the page went away)."""
        with self._lock:
            c = self._items.get(browser_id)
            if c is not None:
                c.busy = False

    def update(self, browser_id: str, generation: int, chat: list[dict], turns: list[dict]) -> bool:
        """Store the chat and history as an answer streams; False when the conversation was cleared meanwhile."""
        c = self.get(browser_id)
        with self._lock:
            if c.generation != generation:
                return False
            c.chat, c.turns = list(chat)[-MAX_MESSAGES:], list(turns)[-MAX_TURNS:]
            return True

    def clear(self, browser_id: str) -> None:
        """A new conversation: nothing kept, nothing waiting; an answer still streaming stops."""
        c = self.get(browser_id)
        with self._lock:
            c.chat, c.turns = [], []
            c.waiting.clear()
            c.generation += 1
        self._remove(browser_id)

    def save(self, browser_id: str) -> None:
        """Write the conversation to the folder (after each answer); a failure is logged, never raised."""
        path = self._file(browser_id)
        if path is None:
            return
        c = self.get(browser_id)
        with self._lock:
            data = {"chat": c.chat, "turns": c.turns}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(path)
        except OSError as e:
            log.warning("conversation not saved: %s", e)

    def _file(self, browser_id: str) -> Path | None:
        """The conversation's file; None for an id page.js could not have made (a Gradio session hash, which the
        client sends: never part of a path) or with no folder. Those conversations live in memory only."""
        if self.folder is None or valid_id(browser_id) != browser_id:
            return None
        return self.folder / f"{browser_id}.json"

    def _load(self, browser_id: str) -> Conversation:
        path = self._file(browser_id)
        if path is None or not path.is_file():
            return Conversation()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Conversation(list(data.get("chat", []))[-MAX_MESSAGES:], list(data.get("turns", []))[-MAX_TURNS:])
        except (OSError, ValueError, AttributeError) as e:
            log.warning("conversation %s not read: %s", path.name, e)
            return Conversation()

    def _remove(self, browser_id: str) -> None:
        path = self._file(browser_id)
        if path is not None:
            path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self._items)


def waiting_markdown(c: Conversation, markdown_text) -> str:
    """The questions waiting behind the answer being written, for the page (`markdown_text` escapes them)."""
    if not c.waiting:
        return ""
    items = "\n".join(f"{i}. {markdown_text(t.text)}" for i, t in enumerate(c.waiting, 1))
    return f"**Waiting to be asked** (after the answer being written):\n\n{items}"
