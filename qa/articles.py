"""Reading article files: header metadata (date, author, dateline, headline) and body offsets."""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import UserError
from qa.sentences import split_sentences
from qa.settings import DEFAULT_MAX_ARTICLE_BYTES, MB

ARTICLE_SUFFIXES = (".txt", ".md")
# Files that sit beside articles in a downloaded corpus or a repository (matched by stem, any
# case): README.TXT, LICENSE.md, … are never ingested, only listed in LoadReport.ignored.
NOT_ARTICLES = frozenset(
    ("readme", "license", "licence", "copying", "changelog", "notice", "authors", "contributing")
)
# Byte-order marks, longest first (the UTF-32-LE mark begins with the UTF-16-LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_BINARY_SCAN = 4096  # characters looked at for control characters
_BINARY_CONTROLS = 0.1  # a larger share of control characters means a binary file
_HEADER_LINE_MAX = 500  # longer lines are never a date or byline header
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
_TITLE_SCAN = 2000


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
    """Articles that loaded, files that could not be read (with the reason), files that loaded
    with a warning (e.g. decoded from a legacy encoding), and project files left out."""

    articles: list[Article]
    skipped: list[tuple[str, str]]
    warnings: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # README, LICENSE, …: not articles


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


def _short(line: str) -> bool:
    """Short enough to be a header line (bounds the header patterns' work on huge lines)."""
    return len(line) <= _HEADER_LINE_MAX


def _is_junk(line: str) -> bool:
    if len(line) > 100:
        return False
    words = re.findall(r"[A-Za-z]+", line)
    return bool(words) and len(words) <= 6 and all(w.lower() in _JUNK_WORDS for w in words)


def _title_from(body: str) -> str:
    body = body[:_TITLE_SCAN]  # the first sentence, at most; a title is cut to _TITLE_MAX
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
    if idx < len(lines) and _short(lines[idx][1]) and (m := _DATE_LINE.match(lines[idx][1])):
        date, rest = m.group(1), m.group(2)
        idx += 1
        if by := _BY_LINE.match(rest):
            author = by.group(1)
        elif dl := _DATELINE.match(rest):
            place, agency = dl.group("place").strip(), dl.group("agency").strip() or None
        elif rest:
            agency = rest
        nxt = skip_blank(idx)
        by = _BY_LINE.match(lines[nxt][1]) if nxt < len(lines) and _short(lines[nxt][1]) else None
        if by and len(by.group(1)) < 60:
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
        doc_id=hashlib.sha1(file.encode("utf-8", "surrogatepass")).hexdigest()[:16],
        content_hash=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
    )


@dataclass(frozen=True)
class Decoded:
    """An article file's text, the encoding it was read in, and a warning about how, if any."""

    text: str
    encoding: str
    warning: str | None = None


class UnreadableArticle(OSError):
    """A file that is listed as an article but is not one to read (too large, not a file)."""


@dataclass
class Listing:
    """What a folder holds: article files to read, files skipped with a reason, files ignored."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _decode_bom(data: bytes) -> Decoded | None:
    """Text of data that starts with a UTF-8/16/32 byte-order mark, else None."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom) :].decode(codec), name)
            except UnicodeDecodeError:
                text = data[len(bom) :].decode(codec, errors="replace")
                return Decoded(text, name, f"invalid {name} bytes replaced by \ufffd")
    return None


def decode_bytes(data: bytes) -> Decoded:
    """A BOM's encoding (UTF-8/16/32), else strict UTF-8, else Windows-1252 with a warning;
    newlines made '\n'."""
    decoded = _decode_bom(data)
    if decoded is None:
        try:
            decoded = Decoded(data.decode("utf-8"), "UTF-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            decoded = Decoded(text, "Windows-1252", "not UTF-8: decoded as Windows-1252")
    text = decoded.text.replace("\r\n", "\n").replace("\r", "\n")
    return Decoded(text, decoded.encoding, decoded.warning)


def decode_article(data: bytes) -> str:
    """Article bytes as text, decoded as ingest decodes them (see `decode_bytes`)."""
    return decode_bytes(data).text


def is_binary(text: str) -> bool:
    """True for text that is not prose: a NUL, or many control characters near the start."""
    if "\x00" in text:
        return True
    head = text[:_BINARY_SCAN]
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\f\v")
    return controls > _BINARY_CONTROLS * max(1, len(head))


def _too_large(size: int, max_bytes: int) -> UnreadableArticle:
    return UnreadableArticle(
        f"too large ({size / MB:.1f} MB; limit {max_bytes / MB:g} MB, set QA_MAX_ARTICLE_MB)"
    )


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, at most `max_bytes` (UnreadableArticle if bigger); never
    blocks on a FIFO or device."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableArticle("not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise _too_large(info.st_size, max_bytes)
        data = handle.read(-1 if max_bytes is None else max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:  # it grew after the size was read
        raise _too_large(len(data), max_bytes)
    return data


def read_article(path: Path, max_bytes: int | None = None) -> Decoded:
    """An article file decoded exactly as ingest reads it, with its encoding and warning."""
    return decode_bytes(read_bytes(path, max_bytes))


def read_article_text(path: Path) -> str:
    """The text of an article file exactly as ingest reads it (offsets and quotes refer to it)."""
    return read_article(path).text


def _display(rel: str) -> str:
    """A relative path that can be printed: undecodable bytes of the name shown as \ufffd."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def is_article_name(name: str) -> bool:
    """A *.txt or *.md name (any case) that is not hidden."""
    return not name.startswith(".") and name.lower().endswith(ARTICLE_SUFFIXES)


def is_project_file(name: str) -> bool:
    """README, LICENSE and the like (by stem, any case): beside articles, never one."""
    return Path(name).stem.lower() in NOT_ARTICLES


def _link_problem(path: Path, root: Path) -> str | None:
    """Why a symlink is not followed (dangling, a loop, out of the folder), None if it may be."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return "dangling symlink"
    except RuntimeError:
        return "symlink loop"
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else _os_reason(exc)
    if not target.is_relative_to(root):
        return "symlink outside the articles folder (not followed)"
    return None


def _rel(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _add_file(listing: Listing, path: Path, folder: Path, root: Path) -> None:
    """Put one candidate file on the listing: to read, skipped with a reason, or ignored."""
    rel = _rel(path, folder)
    shown = _display(rel)
    if is_project_file(path.name):
        listing.ignored.append(shown)
    elif shown != rel:
        listing.skipped.append((shown, "file name is not valid UTF-8 (rename the file)"))
    elif reason := _link_problem(path, root):
        listing.skipped.append((rel, reason))
    else:
        listing.files.append((rel, path))


def _check_dir_links(
    listing: Listing, here: Path, dirs: list[str], folder: Path, root: Path
) -> None:
    """Report symlinked folders that point out of the articles folder (no symlinked folder is
    followed: one inside the folder is read where it really is)."""
    for name in dirs:
        if reason := _link_problem(here / name, root):
            listing.skipped.append((_display(_rel(here / name, folder)) + "/", reason))


def list_folder(folder: Path) -> Listing:
    """Every article file under `folder` (sorted, hidden ones left out, symlinks checked);
    a missing folder is a user error."""
    if not folder.is_dir():
        raise UserError(f"articles folder not found: {folder}")
    root = folder.resolve()
    listing = Listing()

    def unreadable_dir(exc: OSError) -> None:
        rel = _display(_rel(Path(exc.filename), folder)) if exc.filename else "."
        listing.skipped.append((rel + "/", _os_reason(exc)))

    for dirpath, dirs, files in os.walk(folder, onerror=unreadable_dir):
        here = Path(dirpath)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        _check_dir_links(listing, here, dirs, folder, root)
        for name in sorted(files):
            if is_article_name(name):
                _add_file(listing, here / name, folder, root)
    listing.files.sort()
    return listing


def article_files(folder: Path) -> list[Path]:
    """Every article file under `folder` that ingest reads, sorted (see `list_folder`)."""
    return [path for _, path in list_folder(folder).files]


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, UnreadableArticle):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "removed before it could be read"
    return exc.strerror or str(exc)


def _empty_reason(text: str) -> str | None:
    """Why a decoded file holds no article text, or None."""
    if not text:
        return "empty file"
    if not text.strip():
        return "empty file (only whitespace)"
    if is_binary(text):
        return "binary file"
    return None


@dataclass(frozen=True)
class Loaded:
    """One file read as ingest reads it: its article, or why it was skipped; any warning."""

    article: Article | None
    skipped: str | None = None
    warning: str | None = None


def load_file(rel: str, path: Path, max_bytes: int | None) -> Loaded:
    """Read, check and parse one file (`rel`: its path relative to the articles folder)."""
    try:
        decoded = read_article(path, max_bytes)
    except OSError as exc:
        return Loaded(None, _os_reason(exc))
    reason = _empty_reason(decoded.text)
    article = parse_article(rel, decoded.text) if reason is None else None
    if article is not None and not article.body.strip():
        reason = "empty article (no text after the header)"
    if article is None or reason:
        return Loaded(None, reason or "empty article")
    return Loaded(article, warning=decoded.warning)


def _load_one(report: LoadReport, rel: str, path: Path, max_bytes: int | None) -> None:
    """Read, check and parse one file into `report` (an article, a skip or a warning)."""
    loaded = load_file(rel, path, max_bytes)
    if loaded.article is None:
        report.skipped.append((rel, loaded.skipped or "empty article"))
        return
    if loaded.warning:
        report.warnings.append((rel, loaded.warning))
    report.articles.append(loaded.article)


def load_articles(
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
    *,
    max_bytes: int | None = DEFAULT_MAX_ARTICLE_BYTES,
) -> LoadReport:
    """Read and parse every article under `folder`; files that are not readable articles are
    reported with the reason, never fatal. `max_bytes` skips bigger files (None: no limit).

    `progress(done, total)` is called before each file is read and once at the end.
    """
    listing = list_folder(folder)
    report = LoadReport([], list(listing.skipped), ignored=list(listing.ignored))
    total = len(listing.files)
    for done, (rel, path) in enumerate(listing.files):
        if progress:
            progress(done, total)
        _load_one(report, rel, path, max_bytes)
    if progress:
        progress(total, total)
    report.skipped.sort()
    return report
