"""What a typed question may hold: terminal escapes and control characters are dropped, length is
bounded, and an empty question is a clear error rather than a search for nothing."""

from __future__ import annotations

import re
import unicodedata

from qa.errors import UserError

MAX_QUESTION_CHARS = 2000  # ~20x the longest real question; the embedder reads 256 tokens anyway
# CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), and two-character ESC sequences.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")


def _plain(ch: str) -> str:
    """Control and line-separator characters become spaces; invisible format characters go
    (a soft hyphen must not split a word), except the joiner inside emoji sequences; so do lone
    surrogates (bytes of a command line that were not UTF-8), which no tokenizer accepts."""
    category = unicodedata.category(ch)
    if category in ("Cc", "Zl", "Zp"):
        return " "
    if category == "Cs" or (category == "Cf" and ch != "\u200d"):  # Cs: undecodable argv bytes
        return ""
    return ch


def strip_controls(text: str) -> str:
    """`text` without terminal escapes and control characters (spaces in their place), all
    else as typed: what a question box may hold."""
    if text.isprintable():
        return text
    return "".join(_plain(ch) for ch in _ANSI.sub("", text))


def clean_question(question: object) -> str:
    """The question as plain one-line text; raises UserError if nothing askable remains."""
    if not isinstance(question, str):
        raise UserError(f"the question must be text, got {type(question).__name__}")
    if len(question) > 20 * MAX_QUESTION_CHARS:  # don't scan megabytes to say it is too long
        raise UserError(
            f"the question is too long ({len(question):,} characters; at most "
            f"{MAX_QUESTION_CHARS:,})"
        )
    text = " ".join(strip_controls(question).split())
    if not text:
        raise UserError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise UserError(
            f"the question is too long ({len(text):,} characters; at most {MAX_QUESTION_CHARS:,})"
        )
    return text
