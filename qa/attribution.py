"""Who said a sentence, and who holds a title: read from the sentence and its article."""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.candidates import Candidate
from qa.entities import person_names
from qa.features import SoftMatcher, answer_spans
from qa.question import QuestionInfo
from qa.speakers import speaker_clauses, speaker_conflict, speaker_verdicts
from qa.text import countries_in, words
from qa.titles import ROLE_NOUNS, owner_countries


def _country_fits(asked: frozenset[str], evidence: str) -> bool:
    """Whether a title's `evidence` is not another country's than the `asked` ones: whose the
    title is ("Iranian Ambassador"), else any country the evidence names ("the Azerbaijani
    delegation led by Prosecutor-General …")."""
    theirs = owner_countries(evidence) or frozenset(countries_in(evidence))
    return not (asked and theirs and not asked & theirs)


class Attribution:
    """Speaker and title checks over the articles (`article_text`) and their person `names`."""

    def __init__(
        self,
        names: frozenset[str],
        soft: SoftMatcher,
        article_text: Callable[[str], str] = lambda file: "",
    ) -> None:
        self.names = names
        self.soft = soft
        self.article_text = article_text

    def role_fit(self, info: QuestionInfo, cand: Candidate) -> int:
        """1 if a speaker of the sentence holds the asked title, -1 if its speakers are known to
        hold only others ("the minister of defense noted" for a prosecutor), 0 if unknown."""
        if not info.role:
            return 0
        verdict = 0
        for clause in speaker_clauses(cand.text, cand.attribution):
            evidence = self.speaker_titles(clause, str(cand.meta.get("file")), cand.chunk_text)
            if not evidence:
                continue
            titled = len(self.soft.unmatched(list(info.role), evidence, threshold=0.6)) < len(
                info.role
            )
            if titled and _country_fits(info.role_countries, evidence):
                return 1  # the right title, and not another country's ("the Turkmen prosecutor")
            verdict = -1
        return verdict

    def speaker_titles(self, clause: str, file: str, chunk_text: str) -> str:
        """What a speaker clause's speaker is called: the clause, plus the words before the
        speaker's name wherever the article names them ("Prosecutor-General Kamran Aliyev")."""
        people = [n for _, _, n in person_names(clause)] or [
            w for w in re.findall(r"[A-Z][a-z]+", clause) if w in self.names
        ]
        if people:
            return f"{clause} {self.titles(people[0], file, chunk_text)}"
        return clause if any(w.lower() in ROLE_NOUNS for w in words(clause)) else ""

    def names_title_holder(self, info: QuestionInfo, cand: Candidate) -> bool:
        """Whether a person the sentence names (and the question does not) holds the asked
        title, by the words before their name here or anywhere in the article."""
        file = str(cand.meta.get("file"))
        for start, end in answer_spans(info, cand.text, self.names):
            evidence = self.titles(cand.text[start:end], file, cand.chunk_text)
            if self.title_matches(info.title, info.title_countries, evidence):
                return True
        return False

    def title_matches(
        self, title: tuple[str, ...], countries: frozenset[str], evidence: str
    ) -> bool:
        """Every word of `title` (or a close synonym) in `evidence`, and no other country's."""
        if self.soft.unmatched(list(title), evidence, threshold=0.6):
            return False
        return _country_fits(countries, evidence)

    def titles(self, name: str, file: str, fallback: str = "") -> str:
        """The words the article puts right before a person's name, back to the sentence start
        ("Azerbaijan`s Minister of Defense, Colonel General Zakir Hasanov"): what they are
        called. A full name is matched whole, so Ilham Aliyev's titles are not Kamran's."""
        text = self.article_text(file) or fallback
        out = []
        for m in re.finditer(rf"\b{re.escape(name)}\b", text, re.IGNORECASE):
            before = text[max(0, m.start() - 80) : m.start()]
            out.append(before[max(before.rfind(c) for c in '.;:(“”"\n') + 1 :])
        return " ".join(out)

    def asked_speaker_speaks(self, info: QuestionInfo, cand: Candidate) -> bool:
        """Whether the person or title the question asks about is who speaks in `cand`."""
        if info.speaker:
            return any(self.verdicts(info.speaker, cand))
        return self.role_fit(info, cand) > 0

    def verdicts(self, surname: str, cand: Candidate) -> list[bool]:
        """Per speaker clause of `cand` (and of what attributes it): is that speaker `surname`?"""
        file = str(cand.meta.get("file"))
        return speaker_verdicts(
            surname,
            cand.text,
            self.names,
            cand.attribution,
            lambda name: self.titles(name, file),
            cand.antecedent,
        )

    def other_speaker(self, info: QuestionInfo, cand: Candidate) -> bool:
        """Whether only somebody other than the asked speaker speaks in `cand`."""
        file = str(cand.meta.get("file"))
        return speaker_conflict(
            info.speaker,
            cand.text,
            self.names,
            cand.attribution,
            lambda name: self.titles(name, file),
            cand.antecedent,
        ) or (self.role_fit(info, cand) < 0)
