"""One exception type for mistakes a user can fix: the CLI prints it as one line and exits 2."""


class GantoolError(Exception):
    """Bad input or an unusable file: the message says what to do."""


class RankFailedError(Exception):
    """A process of a distributed run failed with an error that is not bad input; the CLI prints it as one line and exits 1."""


def first_line(exc: BaseException) -> str:
    """An exception's message cut to one line, for messages that must stay one line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
