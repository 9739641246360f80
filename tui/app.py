"""The newsqa chat app: a chat log, a sources pane and a reader, all answering through `qa`."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, ListView, Markdown, Static
from textual.worker import get_current_worker

from qa import Answer, Chat, Source, UserError
from qa.articles import read_article_text
from qa.question_input import clean_question
from tui.formatting import SOURCE_LINK, visible, write_export
from tui.llm import AnswererCommands, answerer_label
from tui.messages import (
    AnswerDelta,
    AnswererFailed,
    AnswerPassages,
    AnswerReady,
    AnswerStarted,
    IngestProgress,
    PrepareFinished,
    PrepareProgress,
    WorkFailed,
)
from tui.reader import ReaderScreen
from tui.streaming import consume, fallback_note, open_stream
from tui.widgets import (
    WELCOME,
    AnswerMessage,
    ChatLog,
    PendingMessage,
    PrepareBar,
    QuestionInput,
    QuestionMessage,
    SourceItem,
    SourcesPane,
)

if TYPE_CHECKING:
    from qa.engine import Engine
    from qa.generative.stream import AnswerStream

NARROW_BELOW = 100  # columns: below this the sources pane goes under the chat
PLACEHOLDER = "Ask a question about the articles…"
CHAT_ACTIONS = {"cancel", "new_chat", "export", "toggle_sources", "open_source"}


class NewsQAApp(AnswererCommands, App[None]):
    """Chat with the articles: ask, follow up, read the cited passages in context."""

    CSS_PATH = "newsqa.tcss"
    TITLE = "newsqa"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+b", "toggle_sources", "Sources"),
        *(Binding(str(n), f"open_source({n})", show=False) for n in range(1, 10)),
    ]

    def __init__(
        self,
        engine: Engine,
        chat: Chat,
        export_dir: Path | None = None,
        startup_error: UserError | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.chat = chat
        self.export_dir = export_dir
        self.last_export: Path | None = None
        self._startup_error = startup_error  # e.g. a malformed QA_LLM, shown once on mount
        self._store_note = ""  # "5 articles · 40 chunks", "not ready": the header's first part
        self._stream: tuple[int, AnswerStream] | None = None  # the stream being read, if any
        self._draft_sources: list[Source] | None = None  # passages shown while a draft streams
        self._store_ready = threading.Event()  # set once the store is prepared (or failed to be)
        self._ask_lock = threading.Lock()  # one chat.ask at a time, in question order
        self._request = 0
        self._pending: tuple[int, PendingMessage] | None = None
        self._current: AnswerMessage | None = None

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Container(id="body"):
            with Vertical(id="chat"):
                yield ChatLog(id="log")
                yield PrepareBar(id="prepare")
                yield QuestionInput(placeholder=PLACEHOLDER, id="question")
            yield SourcesPane(id="sources")
        yield Footer()

    def on_mount(self) -> None:
        log = self.main.query_one(ChatLog)
        log.anchor()
        log.mount(Static(Content(WELCOME), classes="welcome"))
        self.main.query_one(QuestionInput).focus()
        self.update_header()
        if self._startup_error is not None:
            self.report_error(self._startup_error, "use the LLM")
        self.start_prepare(reingest=False)

    def update_header(self) -> None:
        """The sub-title: the store's counts (once known) and who answers."""
        self.sub_title = " · ".join(x for x in (self._store_note, answerer_label(self.chat)) if x)

    @property
    def main(self) -> Screen[object]:
        """The chat screen, even while the reader or the palette is on top."""
        return self.screen_stack[0]

    @property
    def sources(self) -> SourcesPane:
        return self.main.query_one(SourcesPane)

    @property
    def current_answer(self) -> Answer | None:
        """The answer whose sources are shown."""
        return self._current.answer if self._current else None

    # ---- one error handler --------------------------------------------------------------

    def report_error(self, error: BaseException, doing: str) -> None:
        """Show `error` as a notification; a UserError's message is meant for the user."""
        if isinstance(error, UserError):
            self.notify(
                visible(str(error)),
                title=f"Could not {doing}",
                severity="error",
                markup=False,
                timeout=8,
            )
            return
        self.log.error(f"while {doing}: {error!r}")
        self.notify(
            visible(f"{type(error).__name__}: {error}"),
            title=f"Unexpected error: {doing}",
            severity="error",
            markup=False,
            timeout=10,
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        stale = message.request_id is not None and (
            self._pending is None or self._pending[0] != message.request_id
        )
        if stale:  # the question was cancelled meanwhile: nobody is waiting for it
            self.log.warning(f"discarded error of a cancelled question: {message.error!r}")
            return
        self.report_error(message.error, message.doing)
        if message.request_id is None:
            self.main.query_one(PrepareBar).hide()
            self._store_note = "not ready"
            self.update_header()
            self._placeholder(PLACEHOLDER)
        else:
            first_line = (str(message.error).splitlines() or [type(message.error).__name__])[0]
            question = self._pending[1].question if self._pending else ""
            self._finish_pending("failed", f"✗ no answer: {visible(first_line)}")
            box = self.main.query_one(QuestionInput)
            if question and not box.value:  # kept: Enter asks it again once the cause is fixed
                box.value = question
                box.cursor_position = len(question)

    # ---- preparing the store ------------------------------------------------------------

    def start_prepare(self, *, reingest: bool) -> None:
        """Ingest (first run or on request) and warm up in a worker; questions wait meanwhile."""
        self._store_ready.clear()
        self.main.query_one(PrepareBar).show("Opening the store…")
        self._placeholder("Preparing the articles… you can type; questions wait until ready")
        self.prepare(reingest)

    @work(thread=True, exclusive=True, group="prepare")
    def prepare(self, reingest: bool) -> None:
        """Worker: ensure_ingested (or ingest), then a warm-up question."""

        def progress(phase: str, done: int, total: int) -> None:
            self.post_message(IngestProgress(phase, done, total))

        try:
            engine = self.engine
            report = (
                engine.ingest(progress=progress) if reingest else engine.ensure_ingested(progress)
            )
            status = engine.status()
            if status.get("chunks"):
                self.post_message(PrepareProgress("Loading the model…"))
                self._warm_up()
            self.post_message(PrepareFinished(report.summary() if report else None, status))
        except Exception as exc:  # shown by the one error handler
            self.post_message(WorkFailed(exc, "prepare the articles"))
        finally:
            self._store_ready.set()

    def _warm_up(self) -> None:
        """Load the embedder and build the retriever now (a failure is not fatal)."""
        try:
            self.engine.warm_up()
        except Exception as exc:  # the first real question will report it
            self.log.warning(f"warm-up failed: {exc!r}")

    def on_prepare_progress(self, message: PrepareProgress) -> None:
        self.main.query_one(PrepareBar).show(message.label)

    def on_ingest_progress(self, message: IngestProgress) -> None:
        self.main.query_one(PrepareBar).progress(message.phase, message.done, message.total)

    def on_prepare_finished(self, message: PrepareFinished) -> None:
        self.main.query_one(PrepareBar).hide()
        self._placeholder(PLACEHOLDER)
        articles, chunks = message.status.get("articles", 0), message.status.get("chunks", 0)
        self._store_note = f"{articles} articles · {chunks} chunks"
        self.update_header()
        if not chunks:
            seeds = self.engine.settings.seeds_dir
            self.notify(
                f"No articles found in {seeds}",
                title="Empty store",
                severity="warning",
                markup=False,
                timeout=8,
            )
        elif message.summary:
            self.notify(message.summary, title="Articles ingested", markup=False)

    def _placeholder(self, text: str) -> None:
        self.main.query_one(QuestionInput).placeholder = text

    # ---- asking -------------------------------------------------------------------------

    @on(QuestionInput.Submitted, "#question")
    async def submit(self, event: QuestionInput.Submitted) -> None:
        """Ask what was typed; a question qa refuses (empty, too long) stays in the box."""
        try:
            question = clean_question(event.value)
        except UserError as exc:
            self.report_error(exc, "ask the question")
            return
        box = self.main.query_one(QuestionInput)
        box.remember(question)
        box.clear()
        await self.ask(question)

    async def ask(self, question: str) -> None:
        """Show the question and a placeholder, and answer it in a worker."""
        self._cancel_pending()
        self._request += 1
        pending = PendingMessage(question, waiting=not self._store_ready.is_set())
        await self.main.query_one(ChatLog).mount_all([QuestionMessage(question), pending])
        self._pending = (self._request, pending)
        self.refresh_bindings()
        self.answer(self._request, question)

    @work(thread=True, exclusive=True, group="answer")
    def answer(self, request_id: int, question: str) -> None:
        """Worker: wait for the store, then stream `chat.ask_stream`'s events as messages
        (passages, batched draft, checked answer); a cancelled answer is discarded."""
        worker = get_current_worker()
        while not self._store_ready.wait(0.05):
            if worker.is_cancelled:
                return
        with self._ask_lock:
            if worker.is_cancelled:
                return
            self.post_message(AnswerStarted(request_id))
            try:
                stream = open_stream(self.chat, question, self.post_message)
                self._stream = (request_id, stream)  # Esc cancels it from the UI thread
                if worker.is_cancelled:
                    stream.cancel()
                answer = consume(stream, request_id, self.post_message, lambda: worker.is_cancelled)
            except Exception as exc:  # shown by the one error handler
                self.post_message(WorkFailed(exc, "answer", request_id))
                return
            finally:
                self._stream = None
            if answer is None:  # cancelled before Done: no turn was recorded
                return
            if worker.is_cancelled:
                self._forget(answer)
                return
            note = fallback_note(stream, answer)
            if note:
                self.post_message(AnswererFailed(UserError(note), stream.label, switched_off=False))
        self.post_message(AnswerReady(request_id, answer))

    def on_answer_started(self, message: AnswerStarted) -> None:
        if self._pending and self._pending[0] == message.request_id:
            self._pending[1].searching()

    async def on_answer_passages(self, message: AnswerPassages) -> None:
        """The passages come before the first token: the sources pane lists them."""
        if not self._pending or self._pending[0] != message.request_id:
            return
        pending = self._pending[1]
        pending.writing(message.label)
        self._draft_sources = message.sources
        await self.sources.show_passages(pending.question, message.sources, message.label)

    def on_answer_delta(self, message: AnswerDelta) -> None:
        if self._pending and self._pending[0] == message.request_id:
            self._pending[1].append(message.text)

    def on_answerer_failed(self, message: AnswererFailed) -> None:
        self.report_error(message.error, f"answer with {message.label}")
        if message.switched_off:
            self.update_header()

    async def on_answer_ready(self, message: AnswerReady) -> None:
        if not self._pending or self._pending[0] != message.request_id:
            self._forget(message.answer)  # cancelled, or the chat was reset meanwhile
            return
        pending = self._pending[1]
        self._pending = None
        self._draft_sources = None
        self.refresh_bindings()
        widget = AnswerMessage(message.answer)
        await self.main.query_one(ChatLog).mount(widget, after=pending)
        await pending.remove()
        await self.select_answer(widget)

    def _forget(self, answer: Answer) -> None:
        """Drop a discarded answer from the conversation so follow-ups don't build on it."""
        self.chat.forget(answer)

    def _cancel_pending(self) -> bool:
        """Cancel the question in flight, if any (an LLM stops at its next token); its
        placeholder says so."""
        if self._pending is None:
            return False
        self.workers.cancel_group(self, "answer")
        streaming = self._stream
        if streaming is not None and streaming[0] == self._pending[0]:
            streaming[1].cancel()
        self._finish_pending("cancelled", "✗ cancelled")
        return True

    def _finish_pending(self, state: str, text: str) -> None:
        if self._pending is not None:
            self._pending[1].finish(state, text)
            self._pending = None
            self.refresh_bindings()
        if self._draft_sources is not None:  # the pane goes back to the answer in focus
            self._draft_sources = None
            self.call_later(self._restore_sources)

    async def _restore_sources(self) -> None:
        await self.sources.show(self.current_answer)

    # ---- the answer in focus and its sources --------------------------------------------

    async def select_answer(self, widget: AnswerMessage | None) -> None:
        """Make `widget` the answer whose sources are shown."""
        if self._current is not None:
            self._current.remove_class("-current")
        self._current = widget
        if widget is not None:
            widget.add_class("-current")
        await self.sources.show(widget.answer if widget else None)

    async def on_answer_message_focused(self, message: AnswerMessage.Focused) -> None:
        if message.message is not self._current:
            await self.select_answer(message.message)

    @on(ListView.Selected, "#sources-list")
    def source_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, SourceItem):
            self.open_source(event.item.source)

    @on(Markdown.LinkClicked)
    async def marker_clicked(self, event: Markdown.LinkClicked) -> None:
        widget = event.markdown
        if not isinstance(widget, AnswerMessage) or not event.href.startswith(SOURCE_LINK):
            return
        await self.select_answer(widget)
        self.action_open_source(int(event.href.removeprefix(SOURCE_LINK) or 0))

    def action_open_source(self, n: int) -> None:
        """Open citation [n] of the answer in focus."""
        answer = self.current_answer
        shown = self._draft_sources
        if shown is None:
            shown = answer.sources if answer is not None else []
        if not 1 <= n <= len(shown):
            self.bell()
            return
        self.open_source(shown[n - 1])

    def open_source(self, source: Source) -> None:
        """Push the reader on the article of `source`, at its quote."""
        path = self.engine.settings.seeds_dir / source.file
        try:
            text = read_article_text(path)  # decoded as ingest did: the offsets refer to it
        except OSError as exc:
            self.report_error(UserError(f"cannot read {path}: {exc}"), "open the article")
            return
        reader = ReaderScreen(source, text)
        if isinstance(self.screen, ReaderScreen):  # a digit in the reader: another source
            self.switch_screen(reader)
        else:
            # The chat screen gets its focus back when the reader closes: put it on the question
            # box now, so what is typed after Esc is the next question.
            self.main.set_focus(self.main.query_one(QuestionInput), scroll_visible=False)
            self.push_screen(reader)

    def on_key(self, event: events.Key) -> None:
        """A printable key no binding takes, pressed on the chat outside the question box (on
        the sources or an answer), goes into the question box: nothing typed is lost."""
        box = self.main.query_one(QuestionInput)
        if (
            self.screen is not self.main
            or not event.is_printable
            or not event.character
            or self.focused is box
            or event.key in self.screen.active_bindings
            or box.disabled
        ):
            return
        event.prevent_default()
        event.stop()
        box.focus()
        box.insert_text_at_cursor(event.character)

    # ---- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat keys only work on the chat screen; Esc-to-cancel only while something is pending."""
        if action == "open_source" and isinstance(self.screen, ReaderScreen):
            return True
        if action in CHAT_ACTIONS and self.screen is not self.main:
            return False
        if action == "cancel":
            return self._pending is not None
        return True

    def action_cancel(self) -> None:
        """Cancel the question being answered."""
        if self._cancel_pending():
            self.notify("Cancelled.", timeout=2)

    async def action_new_chat(self) -> None:
        """Start a fresh conversation: cancel, reset the Chat, clear the log and sources."""
        self._cancel_pending()
        self.chat.reset()
        log = self.main.query_one(ChatLog)
        await log.remove_children()
        await log.mount(Static(Content(WELCOME), classes="welcome"))
        await self.select_answer(None)
        self.main.query_one(QuestionInput).focus()
        self.notify("New chat.", timeout=2)

    def action_export(self) -> None:
        """Write the conversation as Markdown and say where."""
        if not self.chat.turns:
            self.notify("Nothing to export yet.", severity="warning", timeout=3)
            return
        folder = self.export_dir or Path.cwd()
        try:
            path = write_export(self.chat.turns, folder)
        except OSError as exc:
            self.report_error(
                UserError(f"cannot write to {folder}: {exc.strerror or exc}"), "export the chat"
            )
            return
        self.last_export = path
        self.notify(str(path), title="Chat exported", markup=False, timeout=8)

    def action_reingest(self) -> None:
        """Bring the store in line with the seeds folder, with progress; the chat stays usable."""
        if any(w.group == "prepare" and not w.is_finished for w in self.workers):
            self.notify("Already preparing the articles.", severity="warning", timeout=3)
            return
        self.start_prepare(reingest=True)

    def action_toggle_sources(self) -> None:
        """Show or hide the sources pane."""
        self.main.toggle_class("-no-sources")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New chat", "Start a fresh conversation", self.action_new_chat)
        yield SystemCommand(
            "Export chat", "Save the conversation as Markdown, with sources", self.action_export
        )
        yield SystemCommand(
            "Re-ingest articles", "Embed new or changed articles", self.action_reingest
        )
        yield SystemCommand(
            "Toggle sources", "Show or hide the sources pane", self.action_toggle_sources
        )
        yield from self.answerer_commands()


def create_app(
    engine: Engine, *, chat: Chat | None = None, export_dir: str | Path | None = None
) -> NewsQAApp:
    """The chat app over `engine` (a fresh `Chat`, answering with the settings' LLM, unless
    given); exports go to `export_dir`. A malformed `QA_LLM` is one notification in the app,
    which answers with the extractive reader."""
    startup_error = None
    if chat is None:
        try:
            chat = Chat(engine=engine)
        except UserError as exc:
            startup_error, chat = exc, Chat(engine=engine, llm="off")
    folder = Path(export_dir) if export_dir is not None else None
    return NewsQAApp(engine, chat, folder, startup_error)


def run_chat(engine: Engine) -> None:
    """Run the chat in the terminal until the user quits."""
    create_app(engine).run()
