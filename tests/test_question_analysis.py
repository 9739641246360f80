"""Question analysis and the answer: the answer type comes from the question's own opening
wh-word, an entity the question already names is never the answer span, and a trimmed quote
keeps what a colon leads to."""

from __future__ import annotations

from qa.reader.answer import answer_spans, compose
from qa.reader.candidates import Candidate
from qa.reader.question import analyse


def test_a_relative_who_does_not_make_a_what_question_ask_for_a_person() -> None:
    q = analyse(
        "What economic growth rate for 2005 did Bert Ruerup, who chairs Germany's council of "
        "economic experts, now expect?"
    )
    assert q.kind == "head_noun"
    assert "PERCENT" in q.primary and "PERSON" not in q.primary


def test_a_question_after_a_leading_phrase_keeps_its_wh_word() -> None:
    q = analyse("In the YouGov poll for the Sunday Times, what proportion of voters agreed?")
    assert q.kind == "percent" and q.primary == frozenset({"PERCENT"})
    assert analyse("Who, according to the club, signed the striker?").primary == {"PERSON"}


def _candidate(text: str, names: list[tuple[str, str]]) -> Candidate:
    spans = tuple((text.index(name), text.index(name) + len(name), label) for name, label in names)
    return Candidate(
        file="a.txt",
        title="",
        date=None,
        author=None,
        start=0,
        end=len(text),
        text=text,
        window=text,
        entities=spans,
        chunk_rank=0,
        dense_rank=0,
        bm25_rank=0,
        chunk_dense=0.5,
        chunk_bm25=1.0,
        position=0,
        first_chunk=True,
        is_pair=False,
    )


def _span_texts(question: str, cand: Candidate) -> list[str]:
    return [cand.text[s:e] for s, e, _ in answer_spans(analyse(question), cand)]


def test_a_misspelt_name_in_the_question_is_not_the_answer() -> None:
    cand = _candidate(
        "Birmingham confirmed Blackburn made a bid for Robbie Savage - but managing director "
        "Karen Brady has called it derisory.",
        [("Robbie Savage", "PERSON"), ("Karen Brady", "PERSON")],
    )
    question = (
        "Which Birmingham player did Blackburn bid for in an offer Karren Brady called derisory?"
    )
    assert _span_texts(question, cand) == ["Robbie Savage"]
    assert _span_texts(question.replace("Karren", "Karen"), cand) == ["Robbie Savage"]


def test_a_possessive_in_the_question_names_the_entity() -> None:
    cand = _candidate(
        "Fairmont Hotels & Resorts will manage the Savoy and Simpson's in the Strand.",
        [("Fairmont Hotels & Resorts", "ORG"), ("Savoy", "ORG"), ("Simpson", "ORG")],
    )
    question = "Which firm will manage the Savoy hotel and Simpson's in the Strand?"
    assert _span_texts(question, cand) == ["Fairmont Hotels & Resorts"]


def test_a_trimmed_answer_never_ends_on_the_colon_that_opens_a_quote() -> None:
    text = (
        'Regent Street Association director Annie Walker said on Saturday: "The stores were '
        "heaving today and a lot of people are going to be doing last minute shopping as many "
        'people finished work on Friday and can go in the week." She said reports of a slump in '
        "pre-Christmas sales were related to the growing popularity of internet sales."
    )
    question = "What did Regent Street Association director Annie Walker blame for the slump?"
    answer = compose(question, analyse(question), _candidate(text, []), 1.0, 0.9, "")
    quote = answer.sources[0].quote
    assert len(quote.split()) <= 55 and not quote.rstrip().endswith(("Saturday", ":"))
    assert quote in text and "internet sales" in quote
