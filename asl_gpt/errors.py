"""User-facing errors: each carries a one-line message that the CLI prints and the UI shows."""


class AslGptError(Exception):
    """Base class: the message names the problem and, where possible, what to do about it."""


class InputError(AslGptError):
    """Bad input from the user: unreadable video, no camera, empty or oversized question."""


class ModelError(AslGptError):
    """A recognizer model that is missing, corrupt or does not match its contract."""


class IndexError_(AslGptError):
    """The knowledge index is missing, corrupt, locked or unreachable."""


class LLMError(AslGptError):
    """The LLM endpoint is unreachable or failed."""
