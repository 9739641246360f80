"""The chat's widgets: the question input, log messages, the sources pane and the ingest bar."""

from __future__ import annotations

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, ListItem, ListView, Markdown, ProgressBar, Static

from qa import Answer, Source
from qa.question_input import strip_controls
from tui.formatting import WARNING_MARK, answer_markdown, source_meta, visible

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
WELCOME = (
    "Ask a question about the articles: every answer cites its passages [1] [2] …\n"
    "Follow-ups such as “Whom did he meet?” build on the previous answer. "
    "tab: sources · ctrl+p: commands"
)


def typable(text: str) -> str:
    """What the question box keeps of `text`: qa's own rule (escapes dropped, other control
    characters turned into spaces), everything else kept as typed."""
    return strip_controls(text)


def _commonmark() -> MarkdownIt:
    """A plain CommonMark parser: no linkify, no typographer, no HTML surprises."""
    return MarkdownIt("commonmark", {"html": False})


class QuestionInput(Input):
    """The question box; ↑/↓ recall earlier questions, PgUp/PgDn scroll the log."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous question", show=False),
        Binding("down", "history(1)", "Next question", show=False),
        Binding("pageup", "scroll_log(-1)", show=False),
        Binding("pagedown", "scroll_log(1)", show=False),
    ]

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        # no select-all on focus: a key typed after the reader closes must not replace a draft
        super().__init__(placeholder=placeholder, id=id, select_on_focus=False)
        self.history: list[str] = []
        self._index: int | None = None
        self._draft = ""

    def validate_value(self, value: str) -> str:
        """Typed or pasted text never holds a control character (the terminal would obey it)."""
        return typable(value)

    def remember(self, question: str) -> None:
        """Add a sent question to the history and leave history browsing."""
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._index = None

    def action_history(self, step: int) -> None:
        """Show the previous (step -1) or next (+1) question; past the newest, the draft."""
        if not self.history or (self._index is None and step > 0):
            return
        if self._index is None:
            self._draft, self._index = self.value, len(self.history) - 1
        elif self._index + step >= len(self.history):
            self._index = None
            self._set(self._draft)
            return
        else:
            self._index = max(0, self._index + step)
        self._set(self.history[self._index])

    def _set(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)

    def action_scroll_log(self, direction: int) -> None:
        log = self.app.query_one(ChatLog)
        log.scroll_page_down() if direction > 0 else log.scroll_page_up()


class ChatLog(VerticalScroll, can_focus=False):
    """The conversation, anchored to its newest message."""


class QuestionMessage(Static):
    """A question, shown literally."""

    def __init__(self, question: str) -> None:
        super().__init__(Content(visible(question)))
        self.border_title = "you"


class AnswerMessage(Markdown, can_focus=True):
    """An answer (literal Markdown, [n] markers link to sources); focus it to show its sources."""

    class Focused(Message):
        """This answer got the focus: its sources should be shown."""

        def __init__(self, message: AnswerMessage) -> None:
            super().__init__()
            self.message = message

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer_markdown(answer), parser_factory=_commonmark, open_links=False)
        self.answer = answer
        self.set_class(not answer.found, "-not-found")
        self.set_class(bool(answer.warnings), "-warned")
        self.border_title = answer_title(answer)
        n, w = len(answer.sources), len(answer.warnings)
        notes = [f"{WARNING_MARK} {w} warning{'s' * (w != 1)}"] if w else []
        notes += [f"{n} source{'s' * (n != 1)}"] if n else []
        self.border_subtitle = " · ".join(notes)

    def on_focus(self) -> None:
        self.post_message(self.Focused(self))


def answer_title(answer: Answer) -> str:
    """The answer bubble's title: who answered, and that an LLM's citations were checked."""
    if not answer.answered_by:
        return "newsqa" if answer.found else "not found"
    if not answer.found:
        return f"not found · answered by {answer.answered_by}"
    return f"answered by {answer.answered_by} · citations checked"


class PendingMessage(Static):
    """The placeholder of an answer being computed: a spinner and the model's unchecked draft
    as it streams in, then a final word (or the checked answer takes its place)."""

    def __init__(self, question: str, *, waiting: bool) -> None:
        super().__init__()
        self.question = question  # given back to the question box if answering fails
        self.label = "waiting for the articles…" if waiting else "searching the articles…"
        self.state = "pending"
        self.draft = ""  # the streamed text so far (unchecked: its [n] are the passages')
        self._frame = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / 12, self._tick)
        self._draw()

    def searching(self) -> None:
        """The store is ready: the question is being searched."""
        self.label = "searching the articles…"
        self._draw()

    def writing(self, label: str) -> None:
        """The passages are in: `label` (an LLM) writes the answer now."""
        if label:
            self.label = f"{label} is writing (citations checked when it is done)…"
            self._draw()

    def append(self, text: str) -> None:
        """More of the draft."""
        self.draft += text
        self.add_class("-drafting")
        self._draw()

    def finish(self, state: str, text: str) -> None:
        """Stop the spinner and leave `text` (state: cancelled or failed)."""
        if self._timer is not None:
            self._timer.stop()
        self.state = state
        self.remove_class("-drafting")
        self.add_class(f"-{state}")
        self.update(Content(text))

    def _tick(self) -> None:
        self._frame += 1
        self._draw()

    def _draw(self) -> None:
        if self.state == "pending":
            frame = SPINNER[self._frame % len(SPINNER)]
            parts: list[str | tuple[str, str]] = [
                (frame, "bold $accent"),
                " ",
                self.label,
                ("   esc cancels", "dim"),
            ]
            if self.draft:
                parts += ["\n", (visible(self.draft.strip()), "italic")]
            self.update(Content.assemble(*parts))


def source_content(source: Source) -> Content:
    """One source as literal text: number and title, date · author · file, then the quote."""
    return Content.assemble(
        (f"[{source.n}] ", "bold $accent"),
        (visible(source.title or source.file), "bold"),
        "\n",
        (visible(source_meta(source)), "dim"),
        "\n",
        (f"“{visible(source.quote)}”", "italic"),
    )


class SourceItem(ListItem):
    """One entry of the sources pane."""

    def __init__(self, source: Source) -> None:
        super().__init__(Static(source_content(source), classes="source"))
        self.source = source


class SourcesPane(Vertical):
    """The sources of the answer in focus; Enter, a click or its number opens the article."""

    EMPTY = "The passages an answer cites appear here."

    def compose(self) -> ComposeResult:
        yield Static(Content(self.EMPTY), id="sources-heading")
        yield ListView(id="sources-list")

    def on_mount(self) -> None:
        self.border_title = "sources"

    async def show_passages(self, question: str, sources: list[Source], label: str) -> None:
        """The numbered passages `label` is writing from, before its answer is checked."""
        heading = self.query_one("#sources-heading", Static)
        listing = self.query_one(ListView)
        await listing.clear()
        heading.update(
            Content.assemble(
                (f"passages given to {label or 'the reader'} for ", "dim"),
                (f"“{visible(question)}”", "italic"),
            )
        )
        await listing.extend(SourceItem(s) for s in sources)
        listing.index = 0 if sources else None

    async def show(self, answer: Answer | None) -> None:
        """List the sources of `answer` (None: nothing to show)."""
        heading = self.query_one("#sources-heading", Static)
        listing = self.query_one(ListView)
        await listing.clear()
        if answer is None:
            heading.update(Content(self.EMPTY))
        elif not answer.sources:
            heading.update(
                Content.assemble(
                    ("no sources", "bold"),
                    ": the articles don't say.\n",
                    (f"“{visible(answer.question)}”", "dim italic"),
                )
            )
        else:
            heading.update(
                Content.assemble(("for ", "dim"), (f"“{visible(answer.question)}”", "italic"))
            )
            await listing.extend(SourceItem(s) for s in answer.sources)
            listing.index = 0

    @property
    def items(self) -> list[SourceItem]:
        """The entries shown, in order."""
        return list(self.query(SourceItem))


# How each ingest phase reads in the bar; the counts are files, articles or chunks.
PHASE_LABELS = {
    "indexing": "Indexing the stored passages for word search",
    "reading": "Reading the articles",
    "chunking": "Splitting the articles into passages",
    "tagging": "Finding names in the articles",
    "embedding": "Embedding the passages",
    "writing": "Writing the passages to the store",
}
WAITING_LABEL = "Waiting for another ingest to finish…"
CHUNK_PHASES = ("embedding", "writing")  # the phases whose counts are chunks


def phase_label(phase: str, done: int, total: int) -> str:
    """The bar's text for an ingest phase: "Embedding the passages 512/6568", "Waiting for…"."""
    if phase == "waiting":
        return WAITING_LABEL
    label = PHASE_LABELS.get(phase) or visible(phase.capitalize() or "Preparing the articles")
    return f"{label} {done}/{total}" if total > 0 else f"{label}…"


class PrepareBar(Horizontal):
    """What the store is doing (reading, embedding n/total, waiting…), with a progress bar."""

    chunks: tuple[int, int] = (0, 0)  # the last embedding/writing progress shown (done, total)
    phase: str | None = None  # the last ingest phase shown

    def compose(self) -> ComposeResult:
        yield Label(id="prepare-label")
        yield ProgressBar(id="prepare-progress", show_eta=False)

    def show(self, label: str) -> None:
        """Display `label` with an indeterminate bar."""
        self._draw(label, None, None)

    def progress(self, phase: str, done: int, total: int) -> None:
        """Display ingest progress: `done` of `total` in `phase` ("waiting": indeterminate)."""
        self.phase = phase
        counted = phase != "waiting" and total > 0
        if counted and phase in CHUNK_PHASES:
            self.chunks = (done, total)
        self._draw(phase_label(phase, done, total), done if counted else None, total or None)

    def _draw(self, text: str, done: int | None, total: int | None) -> None:
        self.display = True
        self.query_one(Label).update(Content(text))
        bar = self.query_one(ProgressBar)
        if done is not None and total:
            bar.update(total=total, progress=min(done, total))
        else:
            bar.update(total=None)

    @property
    def label(self) -> str:
        """The text shown."""
        return str(self.query_one(Label).content)

    def hide(self) -> None:
        self.display = False
