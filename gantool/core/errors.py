"""One exception type for mistakes a user can fix (the CLI prints it as one line and exits 2), and the one-line form of any error."""

import re


class GantoolError(Exception):
    """Bad input or an unusable file: the message says what to do."""


class RankFailedError(Exception):
    """A process of a distributed run failed with an error that is not bad input; the CLI prints it as one line and exits 1."""


def first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line, for messages that must stay one line.

    onnxruntime's error-code prefix and C++ source location are dropped, so its errors read like the others.
    """
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "(no message)")
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    text = re.sub(r"^Load model from .*? failed:", "", text)
    if text.startswith("/") and "(" in text:  # "/onnxruntime_src/x.cc:46 void f(args) message"
        depth = 0
        for i, char in enumerate(text):
            depth += char == "("
            depth -= char == ")"
            if char == ")" and depth == 0:
                text = text[i + 1 :].strip()
                break
    return text[:400]


def shown(text: str) -> str:
    """A name read from a file or a command line, fit for a one-line message: as it is when it prints
    on one line, else its repr (which escapes newlines and every other unprintable character)."""
    return text if text.isprintable() else repr(text)
