"""Messages for the page: the web user's words, never a command line or a server path.

The library's errors are written for the CLI ("rebuild it with `asl-gpt index --rebuild`") and name
files by their full path; in the app the same action is a button in the Knowledge tab, and a path
on the server (an upload's temporary copy, the models folder) means nothing to the user and
should not be shown to them, so only the file's name is kept.
"""

from __future__ import annotations

import re

_CLI = (
    (re.compile(r"(?:run |with )?`asl-gpt index --rebuild`"),
     "with **Reindex all** and *Rebuild from scratch* in the **Knowledge** tab"),
    (re.compile(r"(?:add documents )?with `asl-gpt index[^`]*`"), "add documents in the **Knowledge** tab"),
    (re.compile(r"`asl-gpt index[^`]*`"), "the **Knowledge** tab"),
    (re.compile(r"\s*\(rag\.max_question_chars\)"), ""),
)
# An absolute path (not a URL's): keep its last component.
_PATH = re.compile(r"(?<![\w/:.~-])(?:~|/)(?:[^\s/:`'\"()]+/)+([^\s/:`'\"()]+)")


def web_text(text: str, paths: tuple[str, ...] = ()) -> str:
    """`text` with CLI advice turned into the app's controls and server paths cut to file names."""
    out = str(text)
    for p in sorted((str(p) for p in paths if p), key=len, reverse=True):
        out = out.replace(p, p.rstrip("/").rsplit("/", 1)[-1])
    for pattern, repl in _CLI:
        out = pattern.sub(repl, out)
    return _PATH.sub(r"\1", out)
