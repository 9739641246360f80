"""Metadata and body offsets parsed from the five real seed articles."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS

import qa.articles as articles_module
from qa.articles import (
    decode_article,
    decode_bytes,
    is_binary,
    load_articles,
    parse_article,
    read_article,
    read_article_text,
)
from qa.chunking import chunk_article
from qa.errors import UserError
from qa.sentences import split_sentences
from qa.settings import DEFAULT_MAX_ARTICLE_BYTES, Settings

EXPECTED = {
    "000_9f4a2981cc9edab8.txt": ("2021-07-08", "Vafa Ismayilova", None, None),
    "001_0a09935dfe10dade.txt": ("2021-01-14", "Vafa Ismayilova", None, "Azernews"),
    "002_602bb7cf4272ab9f.txt": (None, None, None, None),
    "003_c9b81f4206560cc0.txt": ("2019-10-08", None, "Baku", "AZERTAC"),
    "004_cdb1a34271dd60b2.txt": (None, None, None, None),
}


@pytest.fixture(scope="module")
def articles() -> dict[str, object]:
    report = load_articles(SEEDS)
    assert report.skipped == []
    return {a.file: a for a in report.articles}


def test_all_five_seeds_load(articles: dict[str, object]) -> None:
    assert sorted(articles) == sorted(EXPECTED)


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_date_author_dateline(articles: dict, file: str) -> None:
    a = articles[file]
    assert (a.date, a.author, a.place, a.agency) == EXPECTED[file]


def test_titles(articles: dict) -> None:
    assert articles["002_602bb7cf4272ab9f.txt"].title == (
        "Bilateral and trilateral meetings of Prosecutor General of Russia Igor Krasnov with the "
        "heads of the supervisory agencies of the Republic of Azerbaijan and the Republic of "
        "Armenia"
    )
    assert articles["004_cdb1a34271dd60b2.txt"].title.startswith(
        "In many cases, crucial evidence for the outcome of criminal cases"
    )
    assert articles["000_9f4a2981cc9edab8.txt"].title.startswith("Five Caspian littoral states")
    for a in articles.values():
        assert 10 < len(a.title) <= 200


def test_bodies_skip_header_and_site_junk(articles: dict) -> None:
    assert articles["002_602bb7cf4272ab9f.txt"].body.endswith("to Kamran Aliyev and Artur Davtyan.")
    assert "Print News Archive" not in articles["002_602bb7cf4272ab9f.txt"].body
    assert articles["001_0a09935dfe10dade.txt"].body.startswith(
        "The Azerbaijani, Russian and Armenian"
    )
    assert articles["003_c9b81f4206560cc0.txt"].body.startswith("Azerbaijan`s Minister of Defense")
    assert articles["004_cdb1a34271dd60b2.txt"].body_start == 0
    for a in articles.values():
        assert "date 20" not in a.body and not a.body.startswith("By ")


def test_doc_ids_stable_and_distinct(articles: dict) -> None:
    again = {a.file: a.doc_id for a in load_articles(SEEDS).articles}
    assert again == {f: a.doc_id for f, a in articles.items()}
    assert len(set(again.values())) == 5


def test_chunk_offsets_exact(articles: dict) -> None:
    for a in articles.values():
        text = read_article_text(SEEDS / a.file)
        chunks = chunk_article(a)
        assert chunks, a.file
        for c in chunks:
            assert text[c.start : c.end] == c.text
            assert a.body_start <= c.start < c.end <= a.body_end
        covered = sum(c.end - c.start for c in chunks)
        assert covered >= 0.95 * len(a.body.strip())


def test_sentences_respect_abbreviations() -> None:
    text = "I invite you to St. Petersburg, he said. Then Mr. Smith left! Next one."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "I invite you to St. Petersburg, he said.",
        "Then Mr. Smith left!",
        "Next one.",
    ]


def test_header_variants() -> None:
    a = parse_article(
        "x.md", " date 2020-02-03 Paris, March 3, AFP\n\nBody one. Body two.\n\nShare Print\n"
    )
    assert (a.date, a.place, a.agency, a.body) == (
        "2020-02-03",
        "Paris",
        "AFP",
        "Body one. Body two.",
    )
    b = parse_article("y.txt", "Just a sentence here with no header at all.")
    assert (b.date, b.title, b.body_start) == (
        None,
        "Just a sentence here with no header at all",
        0,
    )


def test_unreadable_file_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.txt").write_text("A real article about a meeting in Baku.", encoding="utf-8")
    (tmp_path / "locked.txt").write_text("An article nobody may read.", encoding="utf-8")
    (tmp_path / "blank.md").write_text(" \n\n \n", encoding="utf-8")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    real_read_bytes = articles_module.read_bytes

    def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
        if path.name == "locked.txt":  # root reads any mode-000 file: refuse this one here
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path, max_bytes)

    monkeypatch.setattr(articles_module, "read_bytes", read_bytes)
    report = load_articles(tmp_path)
    assert [a.file for a in report.articles] == ["good.txt"]
    assert report.articles[0].body == "A real article about a meeting in Baku."
    assert report.skipped == [
        ("blank.md", "empty file (only whitespace)"),
        ("locked.txt", "Permission denied"),
    ]


def test_non_utf8_and_bom_articles_are_decoded_not_skipped(tmp_path: Path) -> None:
    """UTF-8 (a BOM dropped), else Windows-1252; newlines normalised; offsets refer to that."""
    body = "Café talks in Zürich – the minister’s visit ended."
    (tmp_path / "latin.txt").write_bytes(f" date 2021-05-04\r\n\r\n{body}\r\n".encode("cp1252"))
    (tmp_path / "bom.txt").write_bytes(f"\ufeff date 2021-05-05\r\r{body}\r".encode())
    (tmp_path / "odd.txt").write_bytes(b"\x81\x8d caf\xe9 bytes")  # not UTF-8: read as 1252
    report = load_articles(tmp_path)
    assert report.skipped == []
    loaded = {a.file: a for a in report.articles}
    assert sorted(loaded) == ["bom.txt", "latin.txt", "odd.txt"]
    for name, date in (("latin.txt", "2021-05-04"), ("bom.txt", "2021-05-05")):
        article = loaded[name]
        text = read_article_text(tmp_path / name)
        assert text == article.text == f" date {date}\n\n{body}\n"
        assert (article.date, article.body) == (date, body)
        for c in chunk_article(article):
            assert text[c.start : c.end] == c.text
    assert loaded["odd.txt"].body == "\ufffd\ufffd café bytes"
    assert report.warnings == [
        ("latin.txt", "not UTF-8: decoded as Windows-1252"),
        ("odd.txt", "not UTF-8: decoded as Windows-1252"),
    ]
    assert (
        decode_article("Zürich".encode("cp1252")) == decode_article("Zürich".encode()) == "Zürich"
    )


def test_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_articles(tmp_path / "nope")


BODY = "Grüße aus Köln: “the minister’s visit” – ended.\nSecond line."


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (BODY.encode(), "UTF-8"),
        (b"\xef\xbb\xbf" + BODY.encode(), "UTF-8 with BOM"),
        (BODY.encode("utf-16"), "UTF-16"),  # the platform's BOM and byte order
        (b"\xfe\xff" + BODY.encode("utf-16-be"), "UTF-16"),
        (b"\xff\xfe" + BODY.encode("utf-16-le"), "UTF-16"),
        (BODY.encode("utf-32"), "UTF-32"),
        (b"\x00\x00\xfe\xff" + BODY.encode("utf-32-be"), "UTF-32"),
    ],
)
def test_bom_decides_the_encoding_then_utf8(data: bytes, encoding: str) -> None:
    decoded = decode_bytes(data)
    assert (decoded.text, decoded.encoding, decoded.warning) == (BODY, encoding, None)


def test_legacy_and_broken_encodings_decode_with_a_warning() -> None:
    latin = decode_bytes(BODY.replace("\n", "\r\n").encode("cp1252"))
    assert (latin.text, latin.encoding) == (BODY, "Windows-1252")
    assert latin.warning == "not UTF-8: decoded as Windows-1252"
    broken = decode_bytes(b"\xff\xfeA\x00B")  # a UTF-16 BOM, then an odd byte out
    assert (broken.text, broken.encoding) == ("A\ufffd", "UTF-16")
    assert broken.warning == "invalid UTF-16 bytes replaced by \ufffd"
    assert decode_bytes(b"a\rb\r\nc\n").text == "a\nb\nc\n"


def test_binary_is_told_from_text() -> None:
    assert is_binary("PNG\x00\x00\x00\rIHDR")
    assert is_binary("".join(chr(i % 32) for i in range(1, 400)))
    assert not is_binary("Plain prose.\tWith a tab,\x0c a form feed\nand lines." * 50)
    assert not is_binary(decode_article("Zürich – café".encode("cp1252")))


def test_read_article_gives_text_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(BODY.encode("utf-16"))
    assert read_article(path).encoding == "UTF-16"
    assert read_article_text(path) == read_article(path).text == BODY


def test_size_limit_is_a_parameter_and_a_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "big.txt").write_text("A sentence of prose here. " * 60_000)  # 1.5 MiB
    (tmp_path / "small.txt").write_text("A short article of one sentence.")
    report = load_articles(tmp_path, max_bytes=1024 * 1024)
    assert [a.file for a in report.articles] == ["small.txt"]
    assert report.skipped == [("big.txt", "too large (1.5 MB; limit 1 MB, set QA_MAX_ARTICLE_MB)")]
    assert len(load_articles(tmp_path, max_bytes=None).articles) == 2
    assert len(load_articles(tmp_path).articles) == 2  # default: 5 MB
    assert Settings().max_article_bytes == DEFAULT_MAX_ARTICLE_BYTES == 5 * 1024 * 1024
    monkeypatch.setenv("QA_MAX_ARTICLE_MB", "0.5")
    assert Settings.from_env().max_article_bytes == 512 * 1024
    for bad in ("0", "-2", "lots", "nan", "inf"):
        monkeypatch.setenv("QA_MAX_ARTICLE_MB", bad)
        with pytest.raises(UserError, match="QA_MAX_ARTICLE_MB must be a positive number"):
            Settings.from_env()


def test_which_files_are_articles(tmp_path: Path) -> None:
    names = [
        "a.txt", "b.MD", "c.Txt", ".hidden.txt", "notes.pdf", "d.txt.bak", "README.TXT",
        "readme.md", "License.txt", "LICENCE.md", "COPYING.txt", "changelog.md", "NOTICE.txt",
        "AUTHORS.md", "Contributing.md", "readme-first.txt", ".git/x.txt", "deep/er/e.md",
    ]  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"An article called {name} with some words.")
    report = load_articles(tmp_path)
    assert [a.file for a in report.articles] == [
        "a.txt", "b.MD", "c.Txt", "deep/er/e.md", "readme-first.txt",
    ]  # fmt: skip
    assert report.ignored == [
        "AUTHORS.md", "COPYING.txt", "Contributing.md", "LICENCE.md", "License.txt",
        "NOTICE.txt", "README.TXT", "changelog.md", "readme.md",
    ]  # fmt: skip
    assert report.skipped == []


def test_symlinks_inside_the_folder(tmp_path: Path) -> None:
    """A symlinked file inside the folder is read; a symlinked folder is never walked twice."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "story.txt").write_text("The ferry to the island sailed at noon.")
    (tmp_path / "alias.txt").symlink_to("real/story.txt")
    (tmp_path / "again").symlink_to("real", target_is_directory=True)
    (tmp_path / "self").symlink_to(".", target_is_directory=True)
    report = load_articles(tmp_path)
    assert [a.file for a in report.articles] == ["alias.txt", "real/story.txt"]
    assert report.skipped == [] and report.ignored == []
    assert read_article_text(tmp_path / "alias.txt") == report.articles[0].text
