"""Who answers: the extractive reader or an LLM spec; a small screen to type a spec."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from qa import Chat, UserError

if TYPE_CHECKING:
    from qa.engine import Engine

EXTRACTIVE = "extractive"
SPEC_HELP = "llamacpp:PATH.gguf · ollama:MODEL[@URL] · openai:MODEL@BASE_URL · off"


def answerer_label(chat: Chat) -> str:
    """What the header shows: the LLM's label, or "extractive"."""
    return chat.label or EXTRACTIVE


def checked_spec(chat: Chat, spec: str | None) -> str | None:
    """`spec` as `chat` would hold it (None: the extractive reader); a malformed one raises
    qa's UserError. No backend is opened: that happens on the next question."""
    return Chat(engine=chat.engine, llm=(spec or "").strip() or "off").llm


def spec_label(chat: Chat, spec: str) -> str | None:
    """The label of a well-formed `spec`, else None."""
    try:
        checked = checked_spec(chat, spec)
    except UserError:
        return None
    return Chat(engine=chat.engine, llm=checked).label if checked else None


class LLMScreen(ModalScreen[str | None]):
    """Type an LLM spec; Enter uses it, Esc keeps the current answerer."""

    BINDINGS = [Binding("escape", "dismiss_screen", "Keep", show=False)]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(id="llm-dialog"):
            yield Static(Content("Answer with an LLM (every citation is checked)"), id="llm-title")
            yield Input(value=self.current, placeholder=SPEC_HELP, id="llm-spec")
            yield Static(Content(f"{SPEC_HELP}\nEnter: use it · Esc: keep"), id="llm-help")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)


class AnswererCommands(App[None]):
    """The app's palette commands and actions that choose who answers the next questions."""

    engine: Engine
    chat: Chat

    def report_error(self, error: BaseException, doing: str) -> None:
        raise NotImplementedError

    def update_header(self) -> None:
        raise NotImplementedError

    def answerer_commands(self) -> Iterable[SystemCommand]:
        """The extractive reader, the configured LLM (if any), and a spec typed in."""
        current = answerer_label(self.chat)
        yield SystemCommand(
            "Answer with the extractive reader",
            f"Sentences quoted from the articles, no LLM (now: {current})",
            partial(self.action_use_llm, "off"),
        )
        configured = self.engine.settings.llm
        label = spec_label(self.chat, configured) if configured else None
        if configured and label:
            yield SystemCommand(
                f"Answer with {label}",
                f"The configured LLM (QA_LLM / --llm), every citation checked (now: {current})",
                partial(self.action_use_llm, configured),
            )
        yield SystemCommand(
            "Answer with an LLM…",
            "Type an LLM spec: llamacpp:PATH.gguf, ollama:MODEL[@URL], openai:MODEL@BASE_URL",
            self.action_choose_llm,
        )

    def action_use_llm(self, spec: str) -> bool:
        """Answer the next questions with `spec` ("off": the extractive reader); a malformed
        spec is one notification and changes nothing."""
        try:
            self.chat.llm = checked_spec(self.chat, spec)
        except UserError as exc:
            self.report_error(exc, "switch the answerer")
            return False
        self.update_header()
        self.notify(f"Answering with {answerer_label(self.chat)}.", markup=False, timeout=3)
        return True

    def action_choose_llm(self) -> None:
        """A small screen to type a spec; Enter uses it, Esc changes nothing."""

        def chosen(spec: str | None) -> None:
            if spec is not None:
                self.action_use_llm(spec)

        self.push_screen(LLMScreen(self.chat.llm), chosen)
