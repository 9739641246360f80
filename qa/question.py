"""What a question asks for: its expected answer type and its content terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.entities import MONTHS, person_names
from qa.speakers import asked_role, asked_role_countries, asked_speaker
from qa.text import STOPWORDS, place_words, stem, terms, words
from qa.titles import asked_title

_WHO = re.compile(
    r"^\s*(?:who|whom|whose)\b|\b(?:which|what)\s+"
    r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|will|would|can)\b)\w+\s+){0,2}"
    r"(?:person|people|official|"
    r"officials|diplomat|ambassador|minister|prosecutor|president|leader|counterpart|man|woman|"
    r"envoy|head|chief|representative)s?\b|\bname\s+of\b|\bat whose\b|\bby whom\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"^\s*(?:when|dates?\s+of)\b|\b(?:what|which)\s+(?:dates?|days?|months?|years?|time)\b|"
    r"\bon what\b|"
    r"\bhow long ago\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|long|old|often)\b|\b(?:what|which)\s+(?:number|percentage|"
    r"anniversary|point|clause|item|share|amount)\b",
    re.IGNORECASE,
)
_WHERE = re.compile(
    r"^\s*where\b|\b(?:in|to|at|from)\s+(?:which|what)\s+(?:city|country|place|town|capital)\b|"
    r"\b(?:which|what)\s+(?:[a-z]+\s+){0,2}?(?:city|country|place|town|capital)\b",
    re.IGNORECASE,
)
_LIST = re.compile(
    r"\b(?:which|what|name|list)\s+(?:the\s+)?(?:two|three|four|five|six|seven|eight|nine|ten|"
    r"\d+)\b|\blist\b|\b(?:what|which)\s+(?:\w+\s+){0,2}(?:crimes|countries|states|threats|"
    r"issues|areas|topics|organi[sz]ations|measures|spheres|mechanisms|manifestations)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QuestionInfo:
    """`kind` is one of who, when, number, where, list, what."""

    text: str
    kind: str
    terms: tuple[str, ...]
    name_parts: tuple[tuple[str, str], ...] = ()  # (first-name term, surname term) pairs
    context_terms: tuple[str, ...] = ()  # carried over from the previous turn: lower weight
    years: tuple[int, ...] = ()  # years the question names ("in 2019")
    unit: str | None = None  # what a number question counts: "delegates", "duration", "age"
    entities: tuple[str, ...] = ()  # terms of the capitalised names in the question
    descriptor: tuple[
        str, ...
    ] = ()  # terms describing the thing asked for ("Azerbaijani minister")
    heads: tuple[
        str, ...
    ] = ()  # surface words naming what is asked: "budget", "appointed", "prices"
    list_head: str = ""  # the plural noun a list question enumerates: "threats", "countries"
    speaker: str | None = None  # surname of the person whose words are asked for
    role: tuple[str, ...] = ()  # what the asked speaker is, when a title stands for a name
    role_countries: frozenset[str] = frozenset()  # whose that title is ("Yerevan's" → armenia)
    several_people: bool = False  # "Which foreign prosecutors general attended …": two or more
    title: tuple[str, ...] = ()  # the title a "Who is the Prosecutor General of Iran?" names
    title_countries: frozenset[str] = frozenset()  # and whose it is (iran)

    @property
    def wants_several(self) -> bool:
        return self.kind == "list"


_UNIT = re.compile(
    r"\bhow\s+(?:many|much)\s+((?:[\w-]+\s*){1,4})|\b(?:what|which)\s+(anniversary|point|clause|item)\b",
    re.IGNORECASE,
)
_SPECIAL_UNITS = {"long": "duration", "old": "age"}


def _unit(question: str) -> str | None:
    if re.search(r"\bper\s?cent(?:age)?\b|%", question, re.IGNORECASE):
        return "percent"  # "by what percentage": "30 years" is no answer
    special = re.search(r"\bhow\s+(long|old)\b", question, re.IGNORECASE)
    if special:
        return _SPECIAL_UNITS[special.group(1).lower()]
    m = _UNIT.search(question)
    if not m:
        return None
    if m.group(2):
        return stem(m.group(2))
    nouns: list[str] = []
    for word in m.group(1).split():  # "Caspian littoral states signed" → "states"
        low = word.lower()
        if low in STOPWORDS or low.endswith("ed") or low in ("did", "does", "do"):
            break
        nouns.append(low)
    return stem(nouns[-1]) if nouns else None


_AUX = {
    "did",
    "does",
    "do",
    "is",
    "was",
    "were",
    "are",
    "has",
    "have",
    "had",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
}
_IRREGULAR_PAST = {
    "met",
    "led",
    "said",
    "took",
    "gave",
    "made",
    "held",
    "saw",
    "went",
    "came",
    "told",
    "won",
    "spoke",
    "wrote",
    "sent",
    "set",
    "put",
    "became",
    "began",
    "left",
}
_WH_PHRASE = re.compile(
    r"^\s*(?:which|what|whose)\s+(.*)$|^\s*(?:who|what)\s+(?:is|was|are|were)\s+(.*)$",
    re.IGNORECASE,
)


def _before_verb(phrase: str) -> list[str]:
    """The words of a wh-phrase up to its verb: "Azerbaijani minister met …" → the first two."""
    kept: list[str] = []
    for word in words(phrase):
        low = word.lower()
        if low in _AUX or low in _IRREGULAR_PAST or (low.endswith("ed") and len(low) > 4):
            break
        kept.append(word)
    return kept


def _descriptor(question: str) -> tuple[str, ...]:
    """Terms of the wh-phrase: "Which Azerbaijani minister met …" → azerbaijan, minister."""
    m = _WH_PHRASE.match(question)
    if not m:
        return ()
    if m.group(2) is not None:
        return tuple(terms(m.group(2)))
    return tuple(terms(" ".join(_before_verb(m.group(1)))))


_COUNT_WORDS = {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}


def _list_head(question: str) -> str:
    """The noun a list question asks to enumerate: "Which five *countries* signed …" (lowercase)."""
    m = _WH_PHRASE.match(question) or re.search(
        r"\b(?:which|what|name|list)\s+(.*)$", question, re.IGNORECASE
    )
    if not m:
        return ""
    phrase = m.group(1) if m.group(1) is not None else m.group(2)
    for word in _before_verb(phrase or ""):
        low = word.lower()
        if low in _COUNT_WORDS or low.isdigit() or low in STOPWORDS:
            continue
        if low.endswith("s") and not low.endswith("ss") and len(low) > 3:
            return low
    return ""


_ATTRIBUTE = re.compile(
    r"^\s*(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+)?([a-z][\w-]*)\s+(?:of|for|in|at)\b",
    re.IGNORECASE,
)
_ABOUT = re.compile(r"\babout\s+((?:[a-z][\w-]*\s*){1,3})\??\s*$", re.IGNORECASE)
_WH_NOUN = re.compile(
    r"^\s*(?:what|which)\s+((?:[a-z][\w-]*\s+){1,3}?)(?:did|does|do|is|was|were|are|has|have|"
    r"had|will|would|can|could)\b",
    re.IGNORECASE,
)
_WHO_VERB = re.compile(
    r"^\s*who\s+(?:will\s+|would\s+|might\s+|could\s+|is\s+going\s+to\s+)?([a-z]+)\s+"
    r"(?:the\s+)?([A-Z][a-z]+)",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"^\s*(?:when|where|(?:in|on|at|since|from)\s+(?:what|which)\s+\w+|"
    r"(?:what|which)\s+(?:year|date|day|month|city|town|country|place))\s+(?:was|were|is|are|will)\b",
    re.IGNORECASE,
)


def _heads(question: str, kind: str) -> tuple[str, ...]:
    """The words that say what is asked: the attribute ("What was the *budget* of …"), the topic
    ("… say about *oil prices*?"), the thing a what-question names ("What *gifts* did …") or the
    event ("When was X *appointed* …")."""
    out: list[str] = []
    if m := _ATTRIBUTE.match(question):
        out.append(m.group(1))
    if m := _ABOUT.search(question):
        out.extend(w for w in m.group(1).split() if w.lower() not in STOPWORDS)
    if kind == "what" and (m := _WH_NOUN.match(question)):  # "What *gifts* did …"
        out.extend(w for w in words(m.group(1)) if w.lower() not in STOPWORDS)
    # "Who will *succeed* Igor Krasnov", "Who *preceded* him": a relation between people the
    # articles must report ("Who represented Armenia" names a place, not a person: no check).
    if (m := _WHO_VERB.match(question)) and stem(m.group(2)) not in place_words():
        if m.group(1).lower() not in _AUX and m.group(1).lower() not in STOPWORDS:
            out.append(m.group(1))
    if _EVENT.match(question):  # "When was X appointed …": the participle names the event
        verbs = [
            w
            for w in words(question)
            if w.islower()
            and w not in STOPWORDS
            and (w == "born" or (len(w) > 4 and w.endswith(("ed", "en"))))
        ]
        out.extend(verbs[:1])
    return tuple(dict.fromkeys(out))


_PEOPLE = re.compile(
    r"^\s*(?:which|what)\s+(?:\w+\s+){0,2}?(?:prosecutors|ministers|officials|leaders|presidents|"
    r"diplomats|ambassadors|envoys|heads|people|persons|representatives|counterparts)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def analyse(question: str, context: str = "") -> QuestionInfo:
    """Classify `question`; `context` (a follow-up's carried words) adds low-weight terms."""
    named = person_names(question)
    if (
        re.match(r"^\s*who\s+(?:is|was)\s+", question, re.IGNORECASE)
        and named
        and (
            re.sub(r"^\s*who\s+(?:is|was)\s+|[?.!\s]+$", "", question, flags=re.IGNORECASE)
            == named[0][2]
        )
    ):
        kind = "what"  # "Who is Kazem Jalali?" asks what he is, not for another person
    elif _LIST.search(question):
        kind = "list"
    elif _WHEN.search(question):
        kind = "when"
    elif _NUMBER.search(question):
        kind = "number"
    elif _WHERE.search(question):
        kind = "where"
    elif _WHO.search(question):
        kind = "who"
    else:
        kind = "what"
    parts: list[tuple[str, str]] = []
    for _, _, name in person_names(question):
        tokens = [stem(t) for t in name.split()]
        parts.extend((first, tokens[-1]) for first in tokens[:-1])
    focus = tuple(dict.fromkeys(terms(question)))
    extra = tuple(t for t in dict.fromkeys(terms(context)) if t not in focus)
    years = tuple(int(y) for y in dict.fromkeys(_YEAR.findall(question)))
    unit = _unit(question) if kind == "number" else None
    entities = tuple(
        dict.fromkeys(
            stem(w)
            for i, w in enumerate(words(question))
            if i > 0 and w[0].isupper() and w.lower() not in STOPWORDS and w not in MONTHS
        )
    )
    return QuestionInfo(
        question,
        kind,
        focus,
        tuple(parts),
        extra,
        years,
        unit,
        entities,
        _descriptor(question),
        _heads(question, kind),
        _list_head(question) if kind == "list" else "",
        asked_speaker(question),
        asked_role(question),
        asked_role_countries(question),
        kind == "who" and bool(_PEOPLE.match(question)),
        *asked_title(question),
    )
