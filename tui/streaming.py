"""The answer worker's side of a streamed answer: open it (an LLM that cannot be opened falls
back to the extractive reader), read its events, and post them in batches the UI can keep up
with. Runs in the worker thread; everything reaches the app as messages."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from qa import Answer, Chat, UserError
from qa.types import Delta, Done, Passages
from tui.messages import AnswerDelta, AnswererFailed, AnswerPassages

if TYPE_CHECKING:
    from qa.generative.stream import AnswerStream

BATCH_SECONDS = 0.05  # at most one draft update per 50 ms, however fast the model writes

Post = Callable[[Message], object]


class DeltaBatcher:
    """Joins deltas: `add` gives the text to show once `interval` has passed since the last
    batch (the first delta at once), else "" and keeps it for the next batch."""

    def __init__(self, interval: float = BATCH_SECONDS, clock: Callable[[], float] | None = None):
        self.interval = interval
        self.clock = clock or time.monotonic
        self._held: list[str] = []
        self._last: float | None = None

    def add(self, text: str) -> str:
        self._held.append(text)
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return ""
        self._last = now
        return self.flush()

    def flush(self) -> str:
        """What is held, now (and nothing held after)."""
        text, self._held = "".join(self._held), []
        return text


def open_stream(chat: Chat, question: str, post: Post) -> AnswerStream:
    """`chat.ask_stream(question)`; if it fails with an LLM set and the extractive reader can
    answer, the LLM was the cause (a missing extra or model file): the chat switches to the
    extractive reader, `AnswererFailed` says so once, and the extractive stream is returned."""
    try:
        return chat.ask_stream(question)
    except Exception as exc:
        label, spec = chat.label, chat.llm
        if not label:
            raise
        chat.llm = None
        try:
            stream = chat.ask_stream(question)
        except Exception:
            chat.llm = spec  # not the LLM's fault: the extractive reader fails too
            raise
        if isinstance(exc, UserError):
            exc = UserError(f"{exc}; answering with the extractive reader (ctrl+p to change)")
        post(AnswererFailed(exc, label, switched_off=True))
        return stream


def consume(
    stream: AnswerStream,
    request_id: int,
    post: Post,
    cancelled: Callable[[], bool],
    batcher: DeltaBatcher | None = None,
) -> Answer | None:
    """Post the passages, then the draft in batches; the checked answer, or None if cancelled
    (the stream is closed then, which stops generation)."""
    batcher = batcher or DeltaBatcher()
    for event in stream:
        if cancelled():
            stream.close()
            return None
        if isinstance(event, Passages):
            post(AnswerPassages(request_id, list(event.sources), stream.label))
        elif isinstance(event, Delta):
            text = batcher.add(event.text)
            if text:
                post(AnswerDelta(request_id, text))
        elif isinstance(event, Done):
            return event.answer  # it replaces the draft: what is still held is not needed
    return None


def fallback_note(stream: AnswerStream, answer: Answer) -> str | None:
    """Why the LLM's answer was not used, when the library fell back to the extractive answer
    (the backend failed, or nothing it wrote was supported): its last warning."""
    if not stream.label or answer.answered_by == stream.label or not answer.found:
        return None
    return answer.warnings[-1] if answer.warnings else None
