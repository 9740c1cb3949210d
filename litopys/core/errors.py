"""Typed errors a user can act on; the CLI prints their message and exits non-zero."""


class LitopysError(Exception):
    """Base class: the message says what went wrong and what to do."""

    exit_code = 1


class ModelUnavailableError(LitopysError):
    """A model could not be found, downloaded, assembled or verified."""

    exit_code = 3


class IndexStateError(LitopysError):
    """The on-disk index is missing, incompatible or damaged."""

    exit_code = 4


class IndexUnavailableError(IndexStateError):
    """The index's server (Milvus) is unreachable or did not answer in time (exit code 4, like any index fault)."""


class IndexBusyError(LitopysError):
    """Another build holds the index lock (exit code 6: retry later)."""

    exit_code = 6


class CorpusError(LitopysError):
    """The corpus folder is missing or unusable as a whole."""

    exit_code = 2


class FilterError(LitopysError):
    """A retrieval filter the user must correct; ``field`` names it so a UI can say it in its language."""

    exit_code = 2

    def __init__(self, message: str, field: str, value: str = "") -> None:
        super().__init__(message)
        self.field = field  # "date_from", "date_to" or "range"
        self.value = value


class UnsafeServerError(LitopysError):
    """The server settings would expose the chat without a login (exit code 7)."""

    exit_code = 7
