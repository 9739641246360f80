"""Who says what: the speaker a question asks about, and the speakers a sentence attributes."""

from __future__ import annotations

import re

from qa.entities import person_names

_SPEECH_ASKED = (
    r"say|said|note|noted|stress|stressed|state|stated|add|added|tell|told|claim|claimed|"
    r"announce|announced|emphasi[sz]e|emphasi[sz]ed|declare|declared|argue|argued|mention|"
    r"mentioned|warn|warned|insist|insisted|call|called|describe|described|express|expressed"
)
_ASKED = re.compile(
    rf"\b(?:did|does|do|has|had|will|would)\s+((?:[A-Z][\w’'-]+\s+){{0,3}}[A-Z][\w’'-]+)\s+"
    rf"(?:{_SPEECH_ASKED})\b|\b(?i:according)\s+to\s+((?:[A-Z][\w’'-]+\s+){{0,3}}[A-Z][\w’'-]+)"
)
_SPEECH_VERB = re.compile(
    r"\b(?:said|says|stated|states|noted|notes|stressed|stresses|added|adds|emphasi[sz]ed|told|"
    r"voiced|expressed|reaffirmed|underlined|underscored|announced|declared|remarked|argued|"
    r"claimed|explained|recalled|spoke|mentioned|warned|insisted|pointed out)\b"
)
_CLAUSE_START = re.compile(r"[,;:]\s+|[“”\"]")
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:-[A-Z]?[a-z]+)?")


def _surname(name: str) -> str:
    return re.sub(r"[’']s$", "", name.split()[-1]).lower()


def asked_speaker(question: str) -> str | None:
    """The surname of the person whose words are asked for: "What did *Krasnov* say …"."""
    m = _ASKED.search(question)
    if not m:
        return None
    return _surname(m.group(1) or m.group(2))


def sentence_speakers(text: str, names: frozenset[str]) -> set[str]:
    """Surnames of the people a sentence has speaking ("Davtyan … stated that …").

    The speaker is the first known name of the clause before the speech verb; a clause starts
    at the sentence start, after a comma, semicolon or colon, or at a quotation mark.
    """
    out: set[str] = set()
    for verb in _SPEECH_VERB.finditer(text):
        before = text[: verb.start()]
        starts = [m.end() for m in _CLAUSE_START.finditer(before)]
        clause = before[starts[-1] :] if starts else before
        full = person_names(clause)
        first_known = next((w for w in _CAPITALISED.findall(clause) if w in names), None)
        if full and (first_known is None or clause.find(full[0][2]) <= clause.find(first_known)):
            out.add(_surname(full[0][2]))
        elif first_known:
            out.add(first_known.lower())
    return out


def speaker_conflict(question_speaker: str | None, text: str, names: frozenset[str]) -> bool:
    """True when the question asks what X said and the sentence has only others speaking."""
    if not question_speaker:
        return False
    speakers = sentence_speakers(text, names)
    return bool(speakers) and question_speaker not in speakers
