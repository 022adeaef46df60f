"""Messages for the page: the web user's words, never a command line or a server path.

An error states its problem and names its fix (`errors.Fix`); the page words the fix as its own controls
(`WEB_FIXES`: a button in the Knowledge tab, where the CLI says `asl-gpt index --rebuild`) and leaves out the
setting behind a limit. A path on the server (an upload's temporary copy, the models folder) means nothing to
the user and should not be shown to them, so only the file's name is kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from asl_gpt.errors import AslGptError, Fix, advised

_REBUILD = "rebuild it with **Reindex all** and *Rebuild from scratch* in the **Knowledge** tab"
WEB_FIXES: Mapping[Fix, str] = {
    Fix.REBUILD_INDEX: _REBUILD,
    Fix.REBUILD_IF_PERSISTS: f"if this persists, {_REBUILD}",
    Fix.FREE_SPACE: "free some space, then index again in the **Knowledge** tab (what was indexed before is kept)",
    Fix.ADD_DOCUMENTS: "Try other words, or add documents in the **Knowledge** tab.",
}
# An absolute path (not a URL's): keep its last component.
_PATH = re.compile(r"(?<![\w/:.~-])(?:~|/)(?:[^\s/:`'\"()]+/)+([^\s/:`'\"()]+)")


def web_text(text: str | BaseException, paths: tuple[str, ...] = ()) -> str:
    """`text` (an error: its problem and the page's words for its fix) with server paths cut to file names."""
    out = advised(text.problem, text.fix, WEB_FIXES) if isinstance(text, AslGptError) else str(text)
    for p in sorted((str(p) for p in paths if p), key=len, reverse=True):
        out = out.replace(p, p.rstrip("/").rsplit("/", 1)[-1])
    return _PATH.sub(r"\1", out)
