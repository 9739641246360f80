"""A streamed answer: Passages first, then Deltas as the model writes, then Done (checked).

Stoppable: `cancel()` may be called from any thread (generation stops at the next token),
`close()` from the iterating one; either way no Done follows and `answer` stays None.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator

from qa.types import Answer, Delta, Done, Passages, StreamEvent


class AnswerStream:
    """Iterate for `StreamEvent`s; `result()` runs it to the end and returns the Answer."""

    def __init__(
        self,
        events: Callable[[threading.Event], Generator[StreamEvent, None, None]],
        on_answer: Callable[[Answer], None] | None = None,
        label: str = "",
    ) -> None:
        self.cancelled = threading.Event()
        self._events = events(self.cancelled)
        self._on_answer = on_answer
        self.label = label  # "" for the extractive reader, else the LLM's label
        self.answer: Answer | None = None

    def __iter__(self) -> AnswerStream:
        return self

    def __next__(self) -> StreamEvent:
        if self.cancelled.is_set():
            self.close()
            raise StopIteration
        event = next(self._events)
        if isinstance(event, Done):
            self.answer = event.answer
            if self._on_answer is not None:
                self._on_answer(event.answer)
        return event

    def cancel(self) -> None:
        """Stop generating (thread-safe): the stream ends at the next token, without a Done."""
        self.cancelled.set()

    def close(self) -> None:
        self.cancelled.set()
        self._events.close()

    def result(self) -> Answer:
        """The final, checked answer (runs the stream to its end)."""
        for _ in self:
            pass
        if self.answer is None:
            raise RuntimeError("the answer was cancelled before it finished")
        return self.answer


def finished(answer: Answer, on_answer: Callable[[Answer], None] | None = None) -> AnswerStream:
    """An already-made answer (the extractive reader's) as a stream of the same events."""

    def events(_: threading.Event) -> Generator[StreamEvent, None, None]:
        yield Passages(list(answer.sources))
        yield Delta(answer.text)
        yield Done(answer)

    return AnswerStream(events, on_answer)
