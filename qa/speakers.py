"""Who says what: the speaker a question asks about, and the speakers a sentence attributes."""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.entities import person_names
from qa.text import place_words, stem
from qa.titles import RANK_WORDS, ROLE_NOUNS, owner_countries

_SPEECH_ASKED = (
    r"say|said|note|noted|stress|stressed|state|stated|add|added|tell|told|claim|claimed|"
    r"announce|announced|emphasi[sz]e|emphasi[sz]ed|declare|declared|argue|argued|mention|"
    r"mentioned|warn|warned|insist|insisted|call|called|describe|described|express|expressed|"
    r"hope|hoped|expect|expected|believe|believed|think|thought|fear|feared|want|wanted"
)
_ASKED = re.compile(
    rf"\b(?:did|does|do|has|had|will|would)\s+((?:[A-Z][\w’'-]+\s+){{0,3}}[A-Z][\w’'-]+)\s+"
    rf"(?:{_SPEECH_ASKED})\b|\b(?i:according)\s+to\s+((?:[A-Z][\w’'-]+\s+){{0,3}}[A-Z][\w’'-]+)\s*[,?]"
)
_SPEECH_VERB = re.compile(
    # Only forms that are never plural nouns ("three states", "his notes" are not speech).
    r"\b(?:said|says|stated|noted|stressed|added|emphasi[sz]ed|told|"
    r"voiced|expressed|reaffirmed|underlined|underscored|announced|declared|remarked|argued|"
    r"claimed|explained|recalled|spoke|mentioned|warned|insisted|pointed out|reported)\b"
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
    name = _surname(m.group(1) or m.group(2))
    if stem(name) in place_words() or name in _ORGANISATION:
        return None  # "What did Moscow say", "… the Prosecutor General's Office announce"
    return name


_ROLE_ASKED = re.compile(
    rf"\b(?:did|does|do|has|had|will|would)\s+((?:[\w’'-]+\s+){{1,5}}?)(?:{_SPEECH_ASKED})\b"
    r"|\baccording\s+to\s+([^,?]+)"
    r"|\bas\s+((?:[\w’'-]+\s+){0,4}?[\w’'-]+)\s+(?:tells|told|puts|put|says|said|sees|saw)\s+it\b",
    re.IGNORECASE,
)


def _role_phrase(question: str) -> str:
    """The words naming the asked speaker when a title stands for a name ("Yerevan's top
    prosecutor", "the envoy from Tehran"); empty for a name or when no title is asked."""
    m = _ROLE_ASKED.search(question)
    if not m:
        return ""
    phrase = str(m.group(1) or m.group(2) or m.group(3))
    found = re.findall(r"[A-Za-z’'-]+", phrase)
    if not any(w.lower() in ROLE_NOUNS for w in found):
        return ""  # a name ("did Igor Krasnov say"): `asked_speaker` covers it
    return phrase


def asked_role(question: str) -> tuple[str, ...]:
    """The words saying what the asked speaker is, when a title stands for a name:
    "What does Yerevan's top *prosecutor* say …", "According to the *defence* chief, …"."""
    found = re.findall(r"[A-Za-z’'-]+", _role_phrase(question))
    return tuple(
        w.lower()
        for w in found
        if not w[0].isupper()  # "Yerevan's", "Azerbaijani": where, not what
        and w.lower() not in RANK_WORDS
        and w.lower() not in ("the", "a", "an", "of", "from", "in", "to", "s")
    )


def asked_role_countries(question: str) -> frozenset[str]:
    """The countries the asked title belongs to ("Yerevan's top prosecutor" → armenia)."""
    return owner_countries(_role_phrase(question))


BACK_REFERENCE = re.compile(
    r"^\W*(?:this|that|these|those|such)\s+(?:is|was|are|were)\s+(?:what|how)\b", re.IGNORECASE
)


def speaker_clauses(text: str, attribution: str = "") -> list[str]:
    """The clause before each speech verb of a sentence: where its speaker is named.

    A clause starts at the sentence start, after a comma, semicolon or colon, or at a
    quotation mark. `attribution` is a sentence that says who said this one: "This is what X
    said" after it, or "X said:" before the quotation it stands in.
    """
    if BACK_REFERENCE.match(text):
        text = ""
    if attribution:
        text = f"{text} {attribution}"
    out = []
    for verb in _SPEECH_VERB.finditer(text):
        before = text[: verb.start()]
        starts = [m.end() for m in _CLAUSE_START.finditer(before)]
        out.append(before[starts[-1] :] if starts else before)
    return out


def clause_speaker(clause: str, names: frozenset[str]) -> str | None:
    """Who speaks in a speaker clause: a surname, SOMEBODY_ELSE for a title or an organisation
    ("the Azerbaijani minister", "the Prosecutor General's Office"), None for a pronoun."""
    full = person_names(clause)
    first_known: str | None = next(
        (str(w) for w in _CAPITALISED.findall(clause) if w in names), None
    )
    if full and (first_known is None or clause.find(full[0][2]) <= clause.find(first_known)):
        return _surname(full[0][2])
    if first_known:
        return first_known.lower()
    return SOMEBODY_ELSE if _names_someone(clause) else None


def sentence_speakers(text: str, names: frozenset[str], attribution: str = "") -> set[str]:
    """Surnames of the people a sentence has speaking ("Davtyan … stated that …"): the first
    known name of each speaker clause; SOMEBODY_ELSE for a speaker that is not a person."""
    speakers = (clause_speaker(c, names) for c in speaker_clauses(text, attribution))
    return {s for s in speakers if s}


SOMEBODY_ELSE = "<somebody else>"
_NOT_A_SPEAKER = frozenset(
    """he she they we i you it who which that this also then later further moreover and but
    the a an has have had was were is are been being""".split()
)


def _names_someone(clause: str) -> bool:
    """Whether a speaker clause names a speaker that is neither a person nor a pronoun."""
    return any(w.lower() not in _NOT_A_SPEAKER for w in re.findall(r"[A-Za-z]+", clause))


_ORGANISATION = frozenset("office ministry report agency service website statement".split())


def speaker_verdicts(
    question_speaker: str,
    text: str,
    names: frozenset[str],
    attribution: str = "",
    titles: Callable[[str], str] = lambda surname: "",
    pronoun_means: frozenset[str] = frozenset(),
) -> list[bool]:
    """For each speaker clause of a sentence whose speaker is known: is it X, the person the
    question asks about?

    A title in place of a name ("the Azerbaijani minister noted") is X when `titles(X)` — the
    words the articles put before X's name — has that title; an organisation never is. A
    pronoun ("He stressed") is X when `pronoun_means` (its antecedent's terms) holds X.
    """
    verdicts = []
    for clause in speaker_clauses(text, attribution):
        who = clause_speaker(clause, names)
        if who is None:
            if pronoun_means and _PRONOUN_CLAUSE.search(clause):
                verdicts.append(stem(question_speaker) in pronoun_means)
            continue
        if who == SOMEBODY_ELSE:
            words = {w.lower() for w in re.findall(r"[A-Za-z]+", clause)}
            held = {w.lower() for w in re.findall(r"[A-Za-z]+", titles(question_speaker))}
            verdicts.append(not words & _ORGANISATION and bool(words & ROLE_NOUNS & held))
        else:
            verdicts.append(who == question_speaker)
    return verdicts


_PRONOUN_CLAUSE = re.compile(r"\b(?:he|she)\b", re.IGNORECASE)


def speaker_conflict(
    question_speaker: str | None,
    text: str,
    names: frozenset[str],
    attribution: str = "",
    titles: Callable[[str], str] = lambda surname: "",
    pronoun_means: frozenset[str] = frozenset(),
) -> bool:
    """True when the question asks what X said and the sentence has only others speaking."""
    if not question_speaker:
        return False
    verdicts = speaker_verdicts(question_speaker, text, names, attribution, titles, pronoun_means)
    return bool(verdicts) and not any(verdicts)


def quote_opener(body: str, start: int) -> str:
    """For a sentence at `start` inside a quotation that opened earlier (“…), the sentence
    that introduced the quotation ("… Igor Krasnov said:"); empty outside quotations."""
    before = body[:start]
    opened = before.rfind("“")
    if opened < 0 or before.count("“") <= before.count("”"):
        return ""
    intro = before[:opened].rstrip()
    cut = max(intro.rfind(". "), intro.rfind("\n"))
    sentence = intro[cut + 1 :].strip()
    return sentence if sentence.endswith(":") or _SPEECH_VERB.search(sentence) else ""
