"""Whatever lands in the articles folder: bad files are skipped with a reason, odd encodings are
decoded, and the good articles beside them still ingest and answer with verbatim quotes."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT

from qa.articles import load_articles, read_article_text
from qa.engine import Engine
from qa.settings import Settings

GOOD_ONE = (
    " date 2022-03-01 By Test Writer\n\n"
    "The harbour board of Velmora appointed Ilse Brandt as its chief engineer on Tuesday. "
    "She will oversee the rebuilding of the northern breakwater, which storms damaged last "
    "winter.\n\nThe board said the work would take two years.\n"
)
ODD_NAME = (
    "Quarry workers strike in Tolvane\n\n"
    "Workers at the Tolvane granite quarry walked out on Friday over unpaid overtime. "
    "Union leader Piet Okonjo said 340 workers had joined the strike.\n"
)
LATIN = (
    " date 2021-05-04\r\n\r\nCafé owners in Zürich – the city’s oldest trade guild – elected "
    "Renate Voss as their president. “It is an honour,” she said.\r\n"
)
UTF16 = (
    "Brückenbau in Ostra\n\nThe town council of Ostra approved a new footbridge over the Lenne "
    "river. Mayor Halvard Sæther said construction begins in April.\n"
)
BOM_CRLF = (
    " date 2020-11-20\r\n\r\nThe observatory at Kesslund recorded a comet brighter than any seen "
    "since 1997. Astronomer Dagny Forsberg named it after her late teacher.\r\n"
)
LONG_FACT = "The lighthouse keeper of Marrowby, Oswin Tallack, retired after forty-one years."


def _long_line() -> str:
    """One line of 100,000+ characters (no newline) with one distinctive fact in the middle."""
    filler = [
        f"Inspectors counted {i} crates of tinned pears in warehouse {i % 17} on shift {i % 3}."
        for i in range(1400)
    ]
    line = " ".join(filler[:700] + [LONG_FACT] + filler[700:])
    assert len(line) >= 100_000 and "\n" not in line
    return line


def _png() -> bytes:
    """A real 1×1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


GOOD = {
    "good_one.txt": GOOD_ONE.encode(),
    "-rf café news.md": ODD_NAME.encode(),
    "latin1.txt": LATIN.encode("cp1252"),
    "utf16.txt": UTF16.encode("utf-16"),  # with its BOM
    "sub dir/bom crlf.TXT": b"\xef\xbb\xbf" + BOM_CRLF.encode(),
    "long_line.txt": _long_line().encode(),
}
SKIPPED = {
    "empty.txt": "empty file",
    "blank.md": "empty file (only whitespace)",
    "header_only.txt": "empty article (no text after the header)",
    "nul.txt": "binary file",
    "image.txt": "binary file",
    "huge.txt": "too large (20.0 MB; limit 5 MB, set QA_MAX_ARTICLE_MB)",
    "dangling.txt": "dangling symlink",
    "loop_a.txt": "symlink loop",
    "loop_b.txt": "symlink loop",
    "outside.txt": "symlink outside the articles folder (not followed)",
    "outside_dir/": "symlink outside the articles folder (not followed)",
    "fifo.txt": "not a regular file",
    "caf\ufffd.txt": "file name is not valid UTF-8 (rename the file)",
}
UNREADABLE = {"locked.txt": "Permission denied", "private/": "Permission denied"}
IGNORED = ["CHANGELOG.md", "LICENSE.txt", "README.TXT", "sub dir/license.md"]


def _can_lock() -> bool:
    """Whether a mode-000 file can be made unreadable to the ingest subprocess."""
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


def _build_folder(root: Path) -> Path:
    """The articles folder: six good articles among every kind of bad file."""
    folder, outside = root / "articles", root / "outside"
    (folder / "sub dir").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("A private note that lives outside. " * 5)
    for name, data in GOOD.items():
        (folder / name).write_bytes(data)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b" \n\t\r\n  \n")
    (folder / "header_only.txt").write_text(" date 2021-01-01 By Nobody\n\n")
    (folder / "nul.txt").write_bytes(b"Looks like text\x00\x00\x01\x02 but is not")
    (folder / "image.txt").write_bytes(_png())
    (folder / "huge.txt").write_bytes(b"Many words here. " * (20 * 1024 * 1024 // 17 + 1))
    (folder / "dangling.txt").symlink_to(root / "nowhere.txt")
    (folder / "loop_a.txt").symlink_to("loop_b.txt")
    (folder / "loop_b.txt").symlink_to("loop_a.txt")
    (folder / "outside.txt").symlink_to(outside / "secret.txt")
    (folder / "outside_dir").symlink_to(outside, target_is_directory=True)
    os.mkfifo(folder / "fifo.txt")
    with open(os.fsencode(folder) + b"/caf\xe9.txt", "wb") as handle:
        handle.write(b"A file whose name is Latin-1 bytes.")
    for name in IGNORED:
        (folder / name).write_text("Project boilerplate, not an article. " * 3)
    (folder / ".hidden.txt").write_text("A hidden file is never read.")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not an article suffix")
    if _can_lock():
        (folder / "locked.txt").write_text("An article nobody may read.")
        (folder / "locked.txt").chmod(0)
        (folder / "private").mkdir()
        (folder / "private" / "inside.txt").write_text("Inside a folder nobody may list.")
        (folder / "private").chmod(0)
    return folder


def _unprivileged(cmd: list[str]) -> list[str]:
    """`cmd`, run without root's power to read any file when we are root."""
    if os.geteuid() != 0:
        return cmd
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--", *cmd]


def _cli(*args: str, locked: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "qa", *args]
    return subprocess.run(
        _unprivileged(cmd) if locked else cmd,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One real `newsqa ingest --json` over the bad folder (the slow part, done once)."""
    root = tmp_path_factory.mktemp("bad")
    folder = _build_folder(root)
    store = root / "store"
    started = time.perf_counter()
    run = _cli("ingest", "--seeds", str(folder), "--store", str(store), "--json", locked=True)
    seconds = time.perf_counter() - started
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    engine = Engine(Settings(seeds_dir=folder, store_dir=store))
    yield {"run": run, "report": report, "folder": folder, "engine": engine, "seconds": seconds}
    if _can_lock():  # readable again, so that the folder can be cleaned up
        (folder / "locked.txt").chmod(0o644)
        (folder / "private").chmod(0o755)


def test_ingest_exits_cleanly_and_reports_every_bad_file(ingested: dict[str, Any]) -> None:
    run, report = ingested["run"], ingested["report"]
    assert "Traceback" not in run.stdout + run.stderr
    skipped = {s["file"]: s["reason"] for s in report["skipped"]}
    expected = {**SKIPPED, **(UNREADABLE if _can_lock() else {})}
    assert skipped == expected
    assert report["added"] == len(GOOD) and report["updated"] == report["removed"] == 0
    assert ingested["seconds"] < 300  # the 20 MB file was skipped, not embedded


def test_legacy_encoding_is_a_warning(ingested: dict[str, Any]) -> None:
    warnings = {w["file"]: w["warning"] for w in ingested["report"]["warnings"]}
    assert warnings == {"latin1.txt": "not UTF-8: decoded as Windows-1252"}


def test_only_the_good_articles_are_stored(ingested: dict[str, Any]) -> None:
    engine, folder = ingested["engine"], ingested["folder"]
    rows = list(engine.store.rows(include=["metadatas", "documents"]))
    assert {meta["file"] for _, meta, _ in rows} == set(GOOD)
    for _, meta, document in rows:
        text = read_article_text(folder / meta["file"])
        assert text[meta["start"] : meta["end"]] == document
        assert "\ufffd" not in document and "\x00" not in document and "\r" not in document


def test_unreadable_file_and_folder(ingested: dict[str, Any]) -> None:
    if not _can_lock():
        pytest.skip("running as root without setpriv: a mode-000 file stays readable")
    skipped = {s["file"]: s["reason"] for s in ingested["report"]["skipped"]}
    assert {f: skipped.get(f) for f in UNREADABLE} == UNREADABLE


QUESTIONS = [
    ("Who did the harbour board of Velmora appoint as chief engineer?", "good_one.txt", "Brandt"),
    ("How many workers joined the Tolvane quarry strike?", "-rf café news.md", "340"),
    ("Whom did the café owners in Zürich elect as president?", "latin1.txt", "Renate Voss"),
    ("Who is the mayor of Ostra?", "utf16.txt", "Halvard Sæther"),
    ("Who named the comet recorded at Kesslund?", "sub dir/bom crlf.TXT", "Dagny Forsberg"),
    ("Who was the lighthouse keeper of Marrowby?", "long_line.txt", "Oswin Tallack"),
]


@pytest.mark.parametrize(("question", "file", "expected"), QUESTIONS)
def test_good_articles_answer_with_verbatim_quotes(
    ingested: dict[str, Any], question: str, file: str, expected: str
) -> None:
    answer = ingested["engine"].ask(question)
    assert answer.found, question
    top = answer.sources[0]
    assert top.file == file and expected in top.quote
    for source in answer.sources:
        text = read_article_text(ingested["folder"] / source.file)
        assert text[source.start : source.end] == source.quote


def test_cli_summary_and_answer_after_the_bad_files(ingested: dict[str, Any]) -> None:
    folder, store = ingested["folder"], ingested["engine"].settings.store_dir
    again = _cli("ingest", "--seeds", str(folder), "--store", str(store), locked=True)
    assert again.returncode == 0 and "Traceback" not in again.stdout + again.stderr
    assert again.stdout.startswith("0 added, 0 updated, 0 removed, 6 unchanged; 0 chunks")
    assert "huge.txt (too large (20.0 MB" in again.stdout
    assert (
        "image.txt (binary file)" in again.stdout
        and "dangling.txt (dangling symlink)" in again.stdout
    )
    asked = _cli("ask", "Who is the mayor of Ostra?", "--seeds", str(folder), "--store", str(store))
    assert asked.returncode == 0 and "Traceback" not in asked.stdout + asked.stderr
    printed = " ".join(asked.stdout.split())  # the quote is wrapped to the terminal width
    assert "· utf16.txt" in printed
    assert "Mayor Halvard Sæther said construction begins in April." in printed


def test_loader_reports_ignored_project_files(ingested: dict[str, Any]) -> None:
    report = load_articles(ingested["folder"])
    assert report.ignored == IGNORED
    # in this process root reads mode-000 files: only the unprivileged ingest was refused them
    readable_again = ["locked.txt", "private/inside.txt"] if os.geteuid() == 0 else []
    assert sorted(a.file for a in report.articles) == sorted([*GOOD, *readable_again])


def test_file_removed_between_listing_and_reading(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"Article {name} reports that the ferry sailed on time.")
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 0:
            (tmp_path / "b.txt").unlink()

    report = load_articles(tmp_path, progress)
    assert [a.file for a in report.articles] == ["a.txt", "c.txt"]
    assert report.skipped == [("b.txt", "removed before it could be read")]
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_ner_tags_texts_longer_than_spacy_allows() -> None:
    """An article over spaCy's 1,000,000-character guard is tagged piecewise, offsets exact."""
    from qa.ner import load_pipeline, tag

    head = "Maria Lopez flew to Paris on Monday.\n\n"
    tail = "Then Lopez met Angela Merkel in Berlin. Google paid $5 million."
    text = head + " " * (load_pipeline().max_length + 100) + tail
    (found,) = tag([text])
    spans = {(text[s:e], label) for s, e, label in found}
    assert {("Maria Lopez", "PERSON"), ("Paris", "GPE"), ("Angela Merkel", "PERSON")} <= spans
    assert ("$5 million", "MONEY") in spans and ("Berlin", "GPE") in spans


def test_ner_pieces_cut_at_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.ner as ner

    text = "First one here. Second sentence now.\nA new line.\n\nA paragraph." + "x" * 90
    pieces = ner._pieces(text, 40)
    assert "".join(piece for _, piece in pieces) == text
    assert [text[o : o + len(p)] for o, p in pieces] == [p for _, p in pieces]
    assert pieces[0][1] == "First one here. Second sentence now.\n"
    assert all(len(piece) <= 40 for _, piece in pieces)
    monkeypatch.setattr(ner, "_MAX_CHARS", 30)
    short = "Angela Merkel spoke in Berlin. " * 4
    assert [(short[s:e], label) for s, e, label in ner.tag([short])[0]].count(
        ("Angela Merkel", "PERSON")
    ) == 4
