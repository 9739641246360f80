"""Whom a follow-up's pronoun means when the previous answer has no span of that kind."""

from __future__ import annotations

from qa.followup import referent, rewrite
from qa.text import names_word, plain_words
from qa.types import Answer, Source

PERSON = frozenset({"PERSON"})
QUOTE = "Karen Brady said Blackburn made a bid for Robbie Savage."


def _answer(question: str) -> Answer:
    def span(name: str) -> tuple[int, int, str]:
        at = 100 + QUOTE.index(name)
        return (at, at + len(name), "PERSON")

    source = Source(
        n=1,
        file="a.txt",
        title=None,
        date=None,
        author=None,
        quote=QUOTE,
        start=100,
        end=100 + len(QUOTE),
        score=1.0,
        entities=(span("Karen Brady"), span("Robbie Savage")),
    )
    return Answer(question=question, text=QUOTE + " [1]", sources=[source])


def test_after_a_who_question_the_pronoun_is_the_unnamed_person() -> None:
    asked = "Who did Blackburn bid for in the offer Karren Brady called derisory?"
    # "Karren" (misspelt) still names the article's "Karen": the answer is the other person.
    assert referent(_answer(asked), asked, PERSON) == "Robbie Savage"
    _, focus = rewrite("How much did Blackburn pay for him?", _answer(asked), asked)
    assert focus == "How much did Blackburn pay for Robbie Savage?"


def test_after_a_what_did_x_say_question_the_pronoun_is_the_named_person() -> None:
    asked = "What did Robbie Savage say about the bid?"
    assert referent(_answer(asked), asked, PERSON) == "Robbie Savage"


def test_names_match_through_a_possessive_and_one_misspelt_letter() -> None:
    assert plain_words("Simpson's in the Strand") == {"simpson", "in", "the", "strand"}
    assert names_word("karen", {"karren"}) and names_word("karren", {"karen"})
    assert not names_word("bath", {"bat"})  # short words must match exactly
    assert not names_word("savage", {"brady", "blackburn"})
