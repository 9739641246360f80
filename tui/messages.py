"""Messages the worker threads post back to the app (post_message is thread-safe)."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from qa import Answer, Source


class PrepareProgress(Message):
    """Preparing the store: what is happening, shown with an indeterminate bar."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label


class IngestProgress(Message):
    """qa's ingest progress: `done` of `total` in `phase` (reading … writing, or waiting)."""

    def __init__(self, phase: str, done: int, total: int) -> None:
        super().__init__()
        self.phase = phase
        self.done = done
        self.total = total


class PrepareFinished(Message):
    """The store is ready; `summary` is the ingest report line (None if nothing was ingested)."""

    def __init__(self, summary: str | None, status: dict[str, Any]) -> None:
        super().__init__()
        self.summary = summary
        self.status = status


class AnswerStarted(Message):
    """Request `request_id` stopped waiting for the store and is being searched."""

    def __init__(self, request_id: int) -> None:
        super().__init__()
        self.request_id = request_id


class AnswerReady(Message):
    """The answer to request `request_id`."""

    def __init__(self, request_id: int, answer: Answer) -> None:
        super().__init__()
        self.request_id = request_id
        self.answer = answer


class WorkFailed(Message):
    """A worker raised `error` while doing `doing`; `request_id` is set for a question."""

    def __init__(self, error: BaseException, doing: str, request_id: int | None = None) -> None:
        super().__init__()
        self.error = error
        self.doing = doing
        self.request_id = request_id


class AnswerPassages(Message):
    """Request `request_id`'s numbered passages, before the first token; `label` is who writes
    ("" for the extractive reader)."""

    def __init__(self, request_id: int, sources: list[Source], label: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.sources = sources
        self.label = label


class AnswerDelta(Message):
    """More of request `request_id`'s unchecked draft: the deltas of ~50 ms, joined."""

    def __init__(self, request_id: int, text: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.text = text


class AnswererFailed(Message):
    """The LLM `label` could not answer (`error`); `switched_off`: it could not even be opened,
    so the chat now answers with the extractive reader."""

    def __init__(self, error: BaseException, label: str, *, switched_off: bool) -> None:
        super().__init__()
        self.error = error
        self.label = label
        self.switched_off = switched_off
