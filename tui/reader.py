"""The reader: one article, shown literally, scrolled to the cited quote, which is highlighted."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from qa import Source
from tui.formatting import locate_quote, paragraphs, source_meta, visible

HIGHLIGHT = "$text on $accent 40%"


def paragraph_content(text: str, start: int, end: int, quote: tuple[int, int] | None) -> Content:
    """text[start:end] as literal Content, the part inside `quote` highlighted.

    Control characters are drawn as visible stand-ins of the same length (see `visible`)."""
    if quote is None or quote[1] <= start or quote[0] >= end:
        return Content(visible(text[start:end]))
    lo, hi = max(start, quote[0]), min(end, quote[1])
    return Content.assemble(
        visible(text[start:lo]), (visible(text[lo:hi]), HIGHLIGHT), visible(text[hi:end])
    )


class ReaderScreen(Screen[None]):
    """Article `source.file` with citation [n]'s quote highlighted; Esc goes back."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("n", "to_quote", "To the quote"),
    ]

    def __init__(self, source: Source, text: str) -> None:
        super().__init__()
        self.source = source
        self.text = text
        self.quote = locate_quote(text, source)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="article"):
            yield Static(
                Content.assemble(
                    (f"[{self.source.n}] ", "bold $accent"),
                    (visible(source_meta(self.source)), "bold"),
                    "\n",
                    (
                        "the highlighted passage is the one cited · "
                        "1-9: the answer's other sources",
                        "dim",
                    ),
                ),
                id="article-meta",
            )
            for start, end in paragraphs(self.text):
                quoted = self.quote is not None and start < self.quote[1] and self.quote[0] < end
                yield Static(
                    paragraph_content(self.text, start, end, self.quote),
                    classes="paragraph -quote" if quoted else "paragraph",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.title = visible(self.source.title or self.source.file)
        self.sub_title = visible(source_meta(self.source))
        self.query_one("#article").focus()
        if self.quote is None:
            self.notify(
                "The article changed since it was ingested: the quote is not in it.",
                title="quote not found",
                severity="warning",
                markup=False,
            )
        self.call_after_refresh(self.action_to_quote)

    def action_to_quote(self) -> None:
        """Scroll the first highlighted paragraph into the middle of the view."""
        first = self.query(".-quote").first() if self.query(".-quote") else None
        if first is not None:
            self.query_one("#article").scroll_to_center(first, animate=False, immediate=True)

    @property
    def highlighted(self) -> str:
        """The highlighted text, as rendered (joined across paragraphs)."""
        parts = []
        for widget in self.query(".-quote").results(Static):
            content = widget.content
            if isinstance(content, Content):
                spans = [s for s in content.spans if s.style == HIGHLIGHT]
                parts += [content.plain[s.start : s.end] for s in spans]
        return "\n\n".join(parts)
