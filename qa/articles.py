"""Reading article files: header metadata (date, author, dateline, headline) and body offsets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import UserError
from qa.sentences import split_sentences

ARTICLE_SUFFIXES = (".txt", ".md")
_DATE_LINE = re.compile(r"^[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})[ \t]*(.*?)[ \t]*$", re.IGNORECASE)
_BY_LINE = re.compile(r"^[ \t]*By[ \t]+(\S.*?)[ \t]*$")
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][\w .'-]+?),[ \t]+(?P<month>January|February|March|April|May|June|July|"
    r"August|September|October|November|December)[ \t]+\d{1,2},?[ \t]*(?P<agency>[\w .&-]*?)[ \t]*$"
)
_JUNK_WORDS = {
    "print",
    "news",
    "archive",
    "share",
    "tweet",
    "email",
    "home",
    "back",
    "top",
    "comments",
}
_SENTENCE_END = (".", "!", "?", '"', "”", "’", ":")
_TITLE_MAX = 110


@dataclass(frozen=True)
class Article:
    """One article file: its full text, the body span inside it and the parsed metadata."""

    file: str
    text: str
    body_start: int
    body_end: int
    title: str
    date: str | None
    author: str | None
    place: str | None
    agency: str | None
    doc_id: str
    content_hash: str

    @property
    def body(self) -> str:
        return self.text[self.body_start : self.body_end]


@dataclass(frozen=True)
class LoadReport:
    """Articles that loaded, files that could not be read (with the reason), and files that
    loaded with a warning (e.g. decoded from a legacy encoding)."""

    articles: list[Article]
    skipped: list[tuple[str, str]]
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
    return out


def _is_headline(line: str, rest: str) -> bool:
    stripped = line.strip()
    return (
        0 < len(stripped) <= 250
        and not stripped.endswith(_SENTENCE_END)
        and bool(rest.strip())
        and len(stripped.split()) >= 3
    )


def _is_junk(line: str) -> bool:
    words = re.findall(r"[A-Za-z]+", line)
    return bool(words) and len(words) <= 6 and all(w.lower() in _JUNK_WORDS for w in words)


def _title_from(body: str) -> str:
    spans = split_sentences(body, 0)
    first = body[spans[0][0] : spans[0][1]] if spans else body
    first = " ".join(first.split())
    if len(first) <= _TITLE_MAX:
        return first.rstrip(".")
    cut = first[:_TITLE_MAX].rsplit(" ", 1)[0].rstrip(",;:-–")
    return cut + "…"


def parse_article(file: str, text: str) -> Article:
    """Parse one article's text; `file` is its path relative to the articles folder."""
    lines = _lines_with_offsets(text)
    idx = 0
    date = author = place = agency = headline = None

    def skip_blank(i: int) -> int:
        while i < len(lines) and not lines[i][1].strip():
            i += 1
        return i

    idx = skip_blank(idx)
    if idx < len(lines) and (m := _DATE_LINE.match(lines[idx][1])):
        date, rest = m.group(1), m.group(2)
        idx += 1
        if by := _BY_LINE.match(rest):
            author = by.group(1)
        elif dl := _DATELINE.match(rest):
            place, agency = dl.group("place").strip(), dl.group("agency").strip() or None
        elif rest:
            agency = rest
        nxt = skip_blank(idx)
        if nxt < len(lines) and (by := _BY_LINE.match(lines[nxt][1])) and len(by.group(1)) < 60:
            if author is not None:
                agency = agency or author
            author = by.group(1)
            idx = nxt + 1
    elif idx < len(lines):
        offset, line = lines[idx]
        if _is_headline(line, text[offset + len(line) :]):
            headline = " ".join(line.split())
            idx += 1

    idx = skip_blank(idx)
    body_start = lines[idx][0] if idx < len(lines) else len(text)
    end_idx = len(lines)
    while end_idx > idx and (not lines[end_idx - 1][1].strip() or _is_junk(lines[end_idx - 1][1])):
        end_idx -= 1
    body_end = lines[end_idx - 1][0] + len(lines[end_idx - 1][1]) if end_idx > idx else body_start
    while body_end > body_start and text[body_end - 1].isspace():
        body_end -= 1
    body = text[body_start:body_end]
    return Article(
        file=file,
        text=text,
        body_start=body_start,
        body_end=body_end,
        title=headline or _title_from(body) or Path(file).stem,
        date=date,
        author=author,
        place=place,
        agency=agency,
        doc_id=hashlib.sha1(file.encode("utf-8")).hexdigest()[:16],
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def article_files(folder: Path) -> list[Path]:
    """Every *.txt and *.md under `folder`, sorted; a missing folder is a user error."""
    if not folder.is_dir():
        raise UserError(f"articles folder not found: {folder}")
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith(".")
    )


def decode_article(data: bytes) -> str:
    """Article bytes as text: UTF-8 (a BOM dropped), else Windows-1252; newlines made '\n'."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_article_text(path: Path) -> str:
    """The text of an article file exactly as ingest reads it (offsets and quotes refer to it)."""
    return decode_article(path.read_bytes())


def load_articles(folder: Path, progress: Callable[[int, int], None] | None = None) -> LoadReport:
    """Read and parse every article under `folder`; unreadable files are reported, not fatal.

    `progress(done, total)` is called as the files are read.
    """
    articles: list[Article] = []
    skipped: list[tuple[str, str]] = []
    paths = article_files(folder)
    for done, path in enumerate(paths, 1):
        if progress:
            progress(done - 1, len(paths))
        rel = path.relative_to(folder).as_posix()
        try:
            text = read_article_text(path)
        except OSError as exc:
            skipped.append((rel, exc.strerror or str(exc)))
            continue
        article = parse_article(rel, text)
        if not article.body.strip():
            skipped.append((rel, "empty article"))
            continue
        articles.append(article)
    if progress:
        progress(len(paths), len(paths))
    return LoadReport(articles, skipped)
