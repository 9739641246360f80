"""Pure text helpers: literal Markdown for the chat log, article paragraphs, the Markdown export."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from qa import Answer, Source
from qa.display import visible as visible  # re-exported for the widgets

_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_ESCAPED_MARKER = re.compile(r"\\\[(\d+)\\\]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_LINE_BREAK = r"(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])"  # what str.splitlines splits on
_NOT_BREAK = r"[^\S\n\r\v\f\x1c-\x1e\x85\u2028\u2029]"  # whitespace inside a line
_LINE_EDGES = re.compile(f"{_NOT_BREAK}*{_LINE_BREAK}{_NOT_BREAK}*")
SOURCE_LINK = "source:"
WARNING_MARK = "⚠"


def _escape_inline(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _strip_lines(text: str) -> str:
    """Each line stripped, so no line can become an indented code block."""
    return "\n".join(line.strip() for line in text.splitlines())


def escape_markdown(text: str) -> str:
    """`text` as Markdown that renders literally: punctuation escaped, no indented code blocks."""
    return _escape_inline(visible(_strip_lines(text)))


def emphasis_parts(answer: Answer) -> list[tuple[str, bool]]:
    """(text, bold) pieces of the answer: its answer spans (offsets from qa) are bold.

    Every line is stripped, as `escape_markdown` does, but the spaces between pieces are kept.
    """
    text = answer.text
    pieces: list[tuple[str, bool]] = []
    cursor = 0
    for span in sorted(answer.spans, key=lambda s: s.at):
        if span.at < cursor or span.at >= span.to or span.to > len(text):
            continue
        pieces += [(text[cursor : span.at], False), (text[span.at : span.to], True)]
        cursor = span.to
    pieces.append((text[cursor:], False))
    pieces = [(_LINE_EDGES.sub("\n", piece), strong) for piece, strong in pieces]
    pieces[0] = (pieces[0][0].lstrip(), pieces[0][1])
    pieces[-1] = (pieces[-1][0].rstrip(), pieces[-1][1])
    return [(piece, strong) for piece, strong in pieces if piece]


def answer_markdown(answer: Answer) -> str:
    """The answer as literal Markdown: qa's emphasis kept, [n] markers linked to their sources."""
    numbers = {s.n for s in answer.sources}

    def marker(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[\\[{n}\\]]({SOURCE_LINK}{n})" if n in numbers else match.group(0)

    text = "".join(
        f"**{_escape_inline(visible(piece))}**" if strong else _escape_inline(visible(piece))
        for piece, strong in emphasis_parts(answer)
    )
    body = _ESCAPED_MARKER.sub(marker, text)
    if answer.query and answer.query.strip() != answer.question.strip():
        body += f"\n\n*searched for: {escape_markdown(answer.query)}*"
    for warning in answer.warnings:  # a block quote each, styled as a warning (newsqa.tcss)
        body += f"\n\n> {WARNING_MARK} {escape_markdown(' '.join(warning.split()))}"
    return body


def source_meta(source: Source) -> str:
    """`date · author · file` for one source, skipping what is unknown."""
    return " · ".join(x for x in (source.date, source.author, source.file) if x)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the blank-line separated paragraphs of `text`."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        if text[pos:end].strip():
            spans.append((pos, end))
        pos = match.end() if match else pos
    return spans


def locate_quote(text: str, source: Source) -> tuple[int, int] | None:
    """Where the quote is in the article text: its offsets, else its first occurrence."""
    if text[source.start : source.end] == source.quote:
        return source.start, source.end
    at = text.find(source.quote) if source.quote else -1
    return (at, at + len(source.quote)) if at >= 0 else None


def _export_escape(text: str) -> str:
    """Keep export text literal for Markdown readers while leaving [n] markers readable."""
    text = visible(text)
    text = re.sub(r"([\\`*_<>])", r"\\\1", text)
    text = re.sub(r"\[(?!\d+\])", r"\\[", text)
    return "\n".join(re.sub(r"^(\s*)([#>+-]|\d+\.)", r"\1\\\2", line) for line in text.splitlines())


def export_markdown(turns: Sequence[Answer], *, when: datetime | None = None) -> str:
    """The conversation as Markdown: each question, its answer, numbered sources and quotes."""
    when = when or datetime.now()
    out = [f"# newsqa conversation, {when:%Y-%m-%d %H:%M}", ""]
    for i, answer in enumerate(turns, 1):
        out += [f"## {i}. {_export_escape(answer.question)}", ""]
        if answer.query and answer.query.strip() != answer.question.strip():
            out += [f"*Searched for: {_export_escape(answer.query)}*", ""]
        text = "".join(
            f"**{_export_escape(piece)}**" if strong else _export_escape(piece)
            for piece, strong in emphasis_parts(answer)
        )
        out += [text, ""]
        if answer.answered_by:
            who = _export_escape(answer.answered_by)
            out += [f"*Answered by {who}; every citation checked against its passage.*", ""]
        for warning in answer.warnings:
            note = _export_escape(" ".join(warning.split()))
            out += [f"> **{WARNING_MARK} Warning:** {note}", ""]
        if not answer.found:
            out += ["*Not found in the articles.*", ""]
        out += _export_sources(answer.sources)
    return "\n".join(out).rstrip() + "\n"


def write_export(turns: Sequence[Answer], folder: Path, *, when: datetime | None = None) -> Path:
    """Write the conversation to folder/newsqa-chat-YYYYMMDD-HHMMSS.md (never overwriting)."""
    when = when or datetime.now()
    stem = f"newsqa-chat-{when:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{stem}.md", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.md"
    path.write_text(export_markdown(turns, when=when), encoding="utf-8")
    return path


def _export_sources(sources: Iterable[Source]) -> list[str]:
    out: list[str] = []
    for s in sources:
        if not out:
            out += ["**Sources**", ""]
        title = _export_escape(s.title or s.file)
        meta = [_export_escape(x) for x in (s.date, s.author) if x]
        plain_file = s.file == visible(s.file) and "`" not in s.file
        meta.append(f"`{s.file}`" if plain_file else _export_escape(s.file))
        out += [f"{s.n}. **{title}** — {' · '.join(meta)}", ""]
        out += ["   > " + line if line else "   >" for line in _export_escape(s.quote).splitlines()]
        out.append("")
    return out
