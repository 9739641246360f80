"""Sentence features for answer selection: term coverage, answer type, answer span, soft matches."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from qa.entities import DATE_RE, NUMBER_RE, mentions_person, person_names
from qa.places import cities, countries, places
from qa.question import QuestionInfo
from qa.text import STOPWORDS, stem, terms, words


def question_coverage(
    info: QuestionInfo,
    have: set[str] | frozenset[str],
    idf: Callable[[str], float],
    context_weight: float = 0.3,
) -> float:
    """Coverage of the question's focus terms, plus its carried context terms at lower weight."""
    weights = _term_weights(info, idf, context_weight)
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0


def _term_weights(
    info: QuestionInfo, idf: Callable[[str], float], context_weight: float = 0.3
) -> dict[str, float]:
    """IDF per focus term; carried context terms share at most `context_weight` of the total."""
    weights = {t: idf(t) for t in info.terms}
    focus_total = sum(weights.values()) or 1.0
    extra = {t: idf(t) for t in info.context_terms if t not in weights}
    scale = min(1.0, context_weight * focus_total / (sum(extra.values()) or 1.0))
    weights.update({t: w * scale for t, w in extra.items()})
    return weights


def soft_coverage(
    info: QuestionInfo, text: str, have: set[str], idf: Callable[[str], float], soft: SoftMatcher
) -> float:
    """Like `question_coverage`, but a focus word with a close synonym in `text` counts 0.8."""
    surface = {stem(w): w for w in words(info.text) if w.lower() not in STOPWORDS}
    missing = [surface[t] for t in info.terms if t not in have and t in surface]
    matched = set(have)
    if missing:
        unmatched = set(soft.unmatched(missing, text, threshold=0.6))
        matched |= {stem(w) for w in missing if w not in unmatched}
    weights = _term_weights(info, idf)
    total = sum(weights.values())
    if not total:
        return 0.0
    exact = sum(w for t, w in weights.items() if t in have)
    fuzzy = sum(w for t, w in weights.items() if t in matched and t not in have)
    return (exact + 0.8 * fuzzy) / total


def sentence_terms(info: QuestionInfo, text: str) -> set[str]:
    """Terms of `text`; a bare surname also counts for the first name the question gave it,
    unless the sentence names somebody else with that surname ("Ilham" vs "Kamran Aliyev")."""
    have = set(terms(text))
    for first, last in info.name_parts:
        if last in have and first not in have:
            others = [n.split() for _, _, n in person_names(text)]
            if not any(stem(n[-1]) == last and stem(n[0]) != first for n in others):
                have.add(first)
    return have


def _asked(info: QuestionInfo) -> set[str]:
    """The question's words, lowercased and stemmed ("Azerbaijani" also as "azerbaijan")."""
    return {w.lower() for w in words(info.text)} | {stem(w) for w in words(info.text)}


def place_spans(text: str) -> list[tuple[int, int]]:
    """Whole-word place names: "Moscow", "St. Petersburg", "Azerbaijan’s" (not "Azerbaijani")."""
    known = places()
    spans: list[tuple[int, int]] = []
    if known:  # qa/data/places.txt ships with the package
        tokens = list(re.finditer(r"[A-Z][\w.-]*(?:[’'`]s)?", text))
        i = 0
        while i < len(tokens):
            for j in range(min(len(tokens), i + 4), i, -1):  # longest run of adjacent words
                first, last = tokens[i], tokens[j - 1]
                gap_ok = all(
                    text[tokens[k].end() : tokens[k + 1].start()] == " " for k in range(i, j - 1)
                )
                name = re.sub(r"[’'`]s$", "", text[first.start() : last.end()])
                if name not in known:
                    name = name.rstrip(".")
                if gap_ok and name in known:
                    spans.append((first.start(), first.start() + len(name)))
                    i = j - 1
                    break
            i += 1
    return spans


_YEAR_ASKED = re.compile(r"\b(?:what|which)\s+years?\b", re.IGNORECASE)
_DATE_ASKED = re.compile(r"\b(?:what|which)\s+(?:dates?|day)\b|^\s*dates?\s+of\b", re.I)
_DATES_ASKED = re.compile(r"\b(?:dates|days)\b", re.IGNORECASE)
_GENERIC_PLACE_WORDS = frozenset(
    "sea ocean gulf lake river city republic federation st saint north south east west new "
    "upper lower united of the and".split()
)


def _names_asked_place(info: QuestionInfo, place: str) -> bool:
    """Whether a multi-word place's proper part is already in the question ("Caspian Sea")."""
    asked = {w.lower() for w in words(info.text)}
    parts = [w.lower() for w in words(place)]
    return len(parts) > 1 and any(p in asked for p in parts if p not in _GENERIC_PLACE_WORDS)


_CITY = re.compile(r"\b(?:city|town|capital)\b", re.IGNORECASE)
_COUNTRY = re.compile(r"\b(?:which|what)\s+(?:country|nation)(?:['’]s)?\b", re.IGNORECASE)


def _demonym_spans(text: str) -> list[tuple[int, int]]:
    """Capitalised words that name a country by its people ("Azerbaijani", "Russian")."""
    known = {c.lower() for c in countries()}
    return [
        (m.start(), m.end())
        for m in re.finditer(r"\b[A-Z][a-z]+\b", text)
        if m.group(0).lower() not in known and stem(m.group(0)) in known
    ]


def answer_spans(info: QuestionInfo, text: str, names: frozenset[str]) -> list[tuple[int, int]]:
    """Spans in `text` of the kind the question asks for, not already named in the question."""
    asked = _asked(info)
    if info.kind == "who":
        spans = [(s, e) for s, e, name in person_names(text)]
        spans += [
            (m.start(), m.end())
            for m in re.finditer(r"\b[A-Z][a-z]+\b", text)
            if m.group(0) in names
        ]
    elif info.kind == "when":
        spans = [(m.start(), m.end()) for m in DATE_RE.finditer(text)]
        if _YEAR_ASKED.search(info.text):  # "since what year": "January" is no answer
            spans = [(s, e) for s, e in spans if re.search(r"\d{4}", text[s:e])]
        elif _DATE_ASKED.search(info.text):  # "on what date": "today" is no answer
            spans = [(s, e) for s, e in spans if re.search(r"\d", text[s:e])]
        if _DATES_ASKED.search(info.text) and len(spans) < 2:  # "the dates of": "July 7-8"
            spans = [(s, e) for s, e in spans if re.search(r"\d\s*[-–]\s*\d", text[s:e])]
    elif info.kind == "number":
        spans = [(m.start(), m.end()) for m in NUMBER_RE.finditer(text)]
        if info.unit:
            spans = [se for se in spans if _counts(info.unit, text, se)]
    elif info.kind == "where":
        spans = place_spans(text)
        if _CITY.search(info.text):  # "which city": Moscow is an answer, Russia is not
            spans = [(s, e) for s, e in spans if text[s:e] in cities()]
        elif _COUNTRY.search(info.text):  # "which country's office": Azerbaijani, not Baku
            spans = [(s, e) for s, e in spans if text[s:e] in countries()]
            spans += _demonym_spans(text)
        # "the Caspian Sea" is no answer to a question about the Caspian declaration
        spans = [(s, e) for s, e in spans if not _names_asked_place(info, text[s:e])]
    else:
        return []
    out: list[tuple[int, int]] = []
    for s, e in sorted(set(spans), key=lambda se: (se[0], -se[1])):
        span_words = [w.lower() for w in words(text[s:e])]
        if span_words and not all(w in asked or stem(w) in asked for w in span_words):
            if not any(s < e2 and s2 < e for s2, e2 in out):
                out.append((s, e))
    return out


_DURATION = re.compile(
    r"^[- ]?(?:days?|weeks?|months?|years?|hours?|minutes?|decades?)\b", re.IGNORECASE
)
_AGE = re.compile(r"^[- ]?years?[- ]old\b|^[- ]?year-old\b", re.IGNORECASE)


def _counts(unit: str, text: str, span: tuple[int, int]) -> bool:
    """Whether the number at `span` counts `unit` ("30 years", "point 8", "five … states")."""
    after = re.sub(r"^[\d,.]+(?:st|nd|rd|th)?", "", text[span[0] : span[1] + 40])
    if unit == "duration":
        return bool(_DURATION.match(after))
    if unit == "percent":
        return bool(re.match(r"^\s*(?:%|per\s?cent)", after, re.IGNORECASE))
    if unit == "age":
        return bool(_AGE.match(after)) or text[max(0, span[0] - 6) : span[0]].lower().endswith(
            "aged "
        )
    near = words(text[max(0, span[0] - 25) : span[0]])[-2:] + words(after)[:4]
    # Short words keep their plural s in `stem` ("days"), so compare singulars as well.
    return any(stem(w).removesuffix("s") == unit.removesuffix("s") for w in near)


def type_match(info: QuestionInfo, text: str, names: frozenset[str]) -> bool:
    if info.kind == "who" and info.several_people:  # "which prosecutors": two names at least
        return len(answer_spans(info, text, names)) >= 2
    if info.kind == "who":
        return mentions_person(text, names, _asked(info))
    if info.kind in ("when", "number", "where"):
        return bool(answer_spans(info, text, names))
    if info.kind == "list":
        return text.count(",") >= 2 or " such as " in text or ":" in text
    return True


_LIST_OPENER = re.compile(r"^(?:\W*\w+){0,5}?\s*(?::|\s[-–—]\s|,?\s+(?:such as|including)\b)")


def enumerates_head(info: QuestionInfo, text: str) -> bool:
    """Whether `text` names the list question's noun right before a list of them
    ("modern *threats*: terrorism, …", "*organizations* such as the UN, …")."""
    head = info.list_head
    if not head:
        return False
    stems = {head, re.sub(r"(?:ies)$", "y", head), re.sub(r"(?:es|s)$", "", head), head[:-1]}
    for m in re.finditer(r"[A-Za-z]+", text):
        if m.group(0).lower() in stems and _LIST_OPENER.match(text[m.end() : m.end() + 60]):
            return True
    return False


def best_span(info: QuestionInfo, text: str, names: frozenset[str]) -> tuple[int, int] | None:
    """The answer span closest to where the question's terms occur in the sentence."""
    spans = answer_spans(info, text, names)
    if not spans:
        return None
    found = [(m.start(), stem(m.group(0))) for m in re.finditer(r"[A-Za-z0-9]+", text)]
    qterms = set(info.terms)
    described = set(info.descriptor)

    def support(span: tuple[int, int]) -> tuple[int, int]:
        """Question terms in the 20 words before / 4 after the span (the wh-phrase's count
        thrice: "Which *Azerbaijani minister* met …"); then closeness."""
        before = [t for pos, t in found if pos < span[0]][-20:]
        after = [t for pos, t in found if pos >= span[1]][:4]
        near = {t for t in before + after if t in qterms}
        titles = {t for t in before if t in described}  # titles come before names
        gaps = [abs(pos - span[0]) for pos, t in found if t in qterms] or [len(text)]
        return len(near) + 2 * len(titles), -min(gaps)

    return max(spans, key=support)


def near_answer(info: QuestionInfo, text: str, names: frozenset[str], reach: int = 4) -> bool:
    """Whether an answer span sits within `reach` words of a (non-name) question term."""
    spans = answer_spans(info, text, names)
    if not spans:
        return False
    anchors = set(info.terms) - set(info.entities)
    positions = [
        (m.start(), m.end())
        for m in re.finditer(r"[A-Za-z0-9]+", text)
        if stem(m.group(0)) in anchors
    ]
    for s, e in spans:
        for a, b in positions:
            gap = text[e:a] if a >= e else text[b:s] if s >= b else ""
            if len(gap.split()) <= reach:
                return True
    return False


class SoftMatcher:
    """Word-level semantic matches ("envoy" ~ "ambassador") with cached word embeddings."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], threshold: float = 0.45) -> None:
        self.embed = embed
        self.threshold = threshold
        self._cache: dict[str, np.ndarray] = {}

    def vectors(self, items: list[str]) -> np.ndarray:
        missing = [w for w in dict.fromkeys(items) if w not in self._cache]
        if missing:
            for w, v in zip(missing, self.embed(missing), strict=True):
                self._cache[w] = v
        return np.stack([self._cache[w] for w in items])

    def prefetch(self, texts: list[str]) -> None:
        """Embed, in one batch, every word of `texts` not seen before."""
        items = [w.lower() for t in texts for w in words(t) if w.lower() not in STOPWORDS]
        if items:
            self.vectors(items)

    def unmatched(
        self, query_words: list[str], sentence: str, threshold: float | None = None
    ) -> list[str]:
        """Query words with neither an exact (stemmed) nor a close semantic match in `sentence`."""
        limit = self.threshold if threshold is None else threshold
        sent_words = [w.lower() for w in words(sentence) if w.lower() not in STOPWORDS]
        if not query_words:
            return []
        if not sent_words:
            return list(query_words)
        sims = self.vectors([w.lower() for w in query_words]) @ self.vectors(sent_words).T
        sent_terms = set(terms(sentence))
        return [
            w
            for w, row in zip(query_words, sims, strict=True)
            if stem(w) not in sent_terms and float(row.max()) < limit
        ]
