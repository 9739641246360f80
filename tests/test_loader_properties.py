"""Properties of the loader on arbitrary input: decoding and parsing never raise, the body is an
exact slice of the decoded text, and what load_articles parsed is what read_article_text reads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.articles import (
    Article,
    decode_article,
    decode_bytes,
    load_articles,
    parse_article,
    read_article_text,
)
from qa.chunking import chunk_article
from qa.sentences import split_sentences

MONTHS = ["January", "March", "October", "december", "Foo"]
WORDS = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)
LINE = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200)
HEADER = st.one_of(
    st.builds(lambda d, rest: f" date {d} {rest}", st.dates().map(str), WORDS),
    st.builds(lambda d, name: f"date {d} By {name}", st.dates().map(str), WORDS),
    st.builds(lambda name: f"  By {name}", WORDS),
    st.builds(
        lambda place, month, day, agency: (
            f" date 2020-01-0{day % 10} {place}, {month} {day}, {agency}"
        ),
        WORDS,
        st.sampled_from(MONTHS),
        st.integers(0, 99),
        WORDS,
    ),
    st.sampled_from(["", " ", "\t", "Share Print", "News Archive", "﻿", "\x0c", "\u2028"]),
    LINE,
)
NEWLINE = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\u2028", "\x85", "\x0b"])
ARTICLE_TEXT = st.builds(
    lambda lines, seps, body: (
        "".join(line + sep for line, sep in zip(lines, seps, strict=False)) + body
    ),
    st.lists(HEADER, max_size=5),
    st.lists(NEWLINE, min_size=5, max_size=5),
    st.text(max_size=400),
)
# Every reason a file can be skipped for by its content (the rest are about the file system).
CONTENT_REASONS = {
    "empty file",
    "empty file (only whitespace)",
    "binary file",
    "empty article (no text after the header)",
}


def _check_offsets(article: Article) -> None:
    text = article.text
    assert 0 <= article.body_start <= article.body_end <= len(text)
    assert article.body == text[article.body_start : article.body_end]
    assert article.body == article.body.rstrip()
    assert isinstance(article.title, str) and article.title


@given(st.binary(max_size=2000))
def test_decoding_never_raises_and_normalises_newlines(data: bytes) -> None:
    decoded = decode_bytes(data)
    assert "\r" not in decoded.text
    assert decode_article(data) == decoded.text
    assert decoded.encoding in {"UTF-8", "UTF-8 with BOM", "UTF-16", "UTF-32", "Windows-1252"}
    if decoded.encoding == "Windows-1252":
        assert decoded.warning == "not UTF-8: decoded as Windows-1252"
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    elif decoded.warning:  # a BOM, then bytes invalid in its encoding
        assert decoded.encoding in {"UTF-16", "UTF-32"} and "\ufffd" in decoded.text


# A UTF-16-LE text that opens with U+0000 begins with the UTF-32-LE mark: ambiguous, and binary.
@given(st.text(max_size=500).map(lambda t: t.replace("\r", "\n")).filter(lambda t: t[:1] != "\0"))
def test_text_decodes_to_itself_with_or_without_a_bom(text: str) -> None:
    assert decode_bytes(text.encode()).text == text
    assert decode_bytes(text.encode("utf-16")).text == text
    assert decode_bytes(b"\xef\xbb\xbf" + text.encode()).text == text


@given(ARTICLE_TEXT)
def test_parse_never_raises_and_body_is_an_exact_slice(text: str) -> None:
    _check_offsets(parse_article("x.txt", text))


@given(st.binary(max_size=1500))
def test_parse_of_any_decoded_bytes(data: bytes) -> None:
    _check_offsets(parse_article("x.txt", decode_article(data)))


@given(st.text(max_size=600))
def test_sentences_are_ordered_trimmed_slices(text: str) -> None:
    spans = split_sentences(text, 7)
    previous = 7
    for start, end in spans:
        assert previous <= start < end <= len(text) + 7
        piece = text[start - 7 : end - 7]
        assert piece == piece.strip()
        previous = end


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.binary(max_size=1500), ARTICLE_TEXT.map(lambda t: t.encode("utf-8"))))
def test_read_article_text_round_trips_what_load_articles_parsed(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "story.txt"
        path.write_bytes(data)
        report = load_articles(Path(folder))
        if report.articles:
            (article,) = report.articles
            text = read_article_text(path)
            assert article.text == text
            assert parse_article("story.txt", text) == article
            _check_offsets(article)
        else:
            ((file, reason),) = report.skipped
            assert file == "story.txt" and reason in CONTENT_REASONS


@settings(max_examples=40, deadline=None)
@given(ARTICLE_TEXT)
def test_chunks_are_verbatim_slices(text: str) -> None:
    article = parse_article("x.txt", text)
    for chunk in chunk_article(article, 64, 8):
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert article.body_start <= chunk.start < chunk.end <= article.body_end
