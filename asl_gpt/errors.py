"""User-facing errors: each states the problem in one line; what to do about it, where only a surface can say
how (the CLI names a command, the web page a control), is a `Fix` that each surface words for itself."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum


class Fix(Enum):
    """What the user can do about a problem. `str(error)` words it for the CLI (and the logs) with `CLI_FIXES`;
    the page words it with `asl_gpt.app.wording.WEB_FIXES`."""

    REBUILD_INDEX = "rebuild the index"
    REBUILD_IF_PERSISTS = "rebuild the index if the failure persists"
    FREE_SPACE = "free disk space, then index again"
    ADD_DOCUMENTS = "ask in other words, or add documents"


CLI_FIXES: Mapping[Fix, str] = {
    Fix.REBUILD_INDEX: "rebuild it with `asl-gpt index --rebuild`",
    Fix.REBUILD_IF_PERSISTS: "if this persists, rebuild it with `asl-gpt index --rebuild`",
    Fix.FREE_SPACE: "free some space, then run `asl-gpt index` again (what was indexed before is kept)",
    Fix.ADD_DOCUMENTS: "Try other words, or add documents with `asl-gpt index`.",
}


def advised(problem: str, fix: Fix | None, words: Mapping[Fix, str]) -> str:
    """`problem` and then the fix as a surface words it: a new sentence after a sentence, else after "; "."""
    if fix is None:
        return problem
    return f"{problem}{' ' if problem.endswith(('.', '!', '?')) else '; '}{words[fix]}"


class AslGptError(Exception):
    """Base class: the message names the problem; `fix` what to do about it where a surface says how, `setting`
    the setting behind a limit (the CLI names it; the page, where nobody edits settings, does not)."""

    def __init__(self, problem: str = "", fix: Fix | None = None, setting: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.setting = setting

    def __str__(self) -> str:  # the CLI's words (`error: ...`), and the logs'
        return advised(self.problem + (f" ({self.setting})" if self.setting else ""), self.fix, CLI_FIXES)


class InputError(AslGptError):
    """Bad input from the user: unreadable video, no camera, empty or oversized question."""


class ModelError(AslGptError):
    """A recognizer model that is missing, corrupt or does not match its contract."""


class IndexStoreError(AslGptError):
    """The knowledge index is missing, corrupt, locked or unreachable."""


class LLMError(AslGptError):
    """The LLM endpoint is unreachable or failed."""
