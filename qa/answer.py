"""The default answerer: picks the best-supported sentence(s) of the retrieved chunks (no LLM)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from qa.attribution import Attribution
from qa.candidates import Candidate, antecedent_terms
from qa.features import (
    SoftMatcher,
    best_span,
    enumerates_head,
    near_answer,
    question_coverage,
    sentence_terms,
    soft_coverage,
    type_match,
)
from qa.places import places
from qa.question import QuestionInfo, analyse
from qa.retrieval import Hit
from qa.sentences import split_sentences
from qa.speakers import (
    BACK_REFERENCE,
    quote_opener,
)
from qa.text import STOPWORDS, country_alias, stem, terms, words
from qa.types import Answer, Source

NOT_FOUND_TEXT = "The articles don't say: no passage in them answers this question."
MAX_QUOTE_WORDS = 55
MAX_ANSWER_WORDS = 80
_ENUMERATION = re.compile(r"\bsuch as\b|\bincluding\b|:\s*\w+,")
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+[–—-]\s+|\s+\(")
_QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
# Words that frame the kind of answer wanted rather than its content ("which city", "what date").
_SCAFFOLDING = {
    "city",
    "country",
    "place",
    "date",
    "day",
    "year",
    "month",
    "time",
    "name",
    "kind",
    "type",
    "number",
    "person",
    "people",
    "according",
    "roughly",
    "approximately",
    "exactly",
    "closer",
    "happen",
    "happened",
    "mention",
    "mentioned",
    "describe",
    "described",
    "say",
    "said",
    "concern",
    "concerning",
    "regarding",
    "cover",
    "covered",
    "refer",
    "referred",
    "given",
    # words that name the kind of title asked for ("what military rank does he hold")
    "rank",
    "title",
    "position",
    "post",
    "role",
    "job",
    "status",
    # rank words that only grade a title ("Azerbaijan's top prosecutor")
    "top",
    "senior",
    "leading",
}


@dataclass(frozen=True)
class Weights:
    """Sentence score = dense·w + lexical·w + context·w + type·w + rank·w; then refusal limits."""

    dense: float = 0.40
    lexical: float = 0.35
    context: float = 0.10
    answer_type: float = 0.15
    rank: float = 0.05
    min_score: float = 0.42  # best sentence below this → "the articles don't say"
    min_dense: float = 0.25
    max_unsupported: float = 0.50  # share of the question unknown to the articles and unmatched
    require_entities: bool = True  # the question's names must occur around the answer
    check_heads: bool = True  # refuse when the asked attribute/topic/event is unknown
    require_type: bool = True  # who/when/how many/where need a person/date/number/place
    check_speakers: bool = True  # "what did X say" is never answered by somebody else's words
    check_titles: bool = True  # "Who is the Prosecutor General of Iran?" needs a holder of it
    fallback_margin: float = 0.12  # how far below the top a sentence that fits may rank
    continuity: float = 0.05  # a follow-up's bonus for the previous answer's articles
    proximity: float = 0.08  # an answer span right next to a question term ("44-day war")
    date_match: float = 0.05  # bonus (or malus) when an article's year is (not) the one asked
    list_head: float = 0.08  # a list question's noun right before a list ("threats: a, b, c")
    speaker_role: float = 0.06  # the sentence's speaker holds the asked title ("chief prosecutor")
    prefilter: int = 14  # sentences that get their own embedding (the rest are dropped)
    rerank: int = 8  # top sentences re-scored with synonym-aware term matching
    max_passage_words: int = 70  # a sentence plus its neighbour, when only the pair answers


class ExtractiveAnswerer:
    """Scores candidate sentences by dense similarity, term overlap, answer type and chunk rank."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        idf: Callable[[str], float],
        weights: Weights | None = None,
        *,
        known: Callable[[str], bool] = lambda term: True,
        names: frozenset[str] = frozenset(),
        article_has: Callable[[str, str], bool] = lambda file, term: False,
        article_text: Callable[[str], str] = lambda file: "",
        max_chunks: int = 32,
    ) -> None:
        self.article_has = article_has
        self.article_text = article_text
        self.embed = embed
        self.idf = idf
        self.known = known
        self.weights = weights or Weights()
        self.names = names
        self.max_chunks = max_chunks
        self.soft = SoftMatcher(embed)
        self.attribution = Attribution(names, self.soft, article_text)
        # Names a question may use: people's, places' ("Baku"), and a multi-word place's last
        # word ("St Petersburg" → petersburg), which the question's capitalised words match.
        self._name_terms = frozenset(stem(n) for n in names) | frozenset(
            stem(p.split()[-1]) for p in places()
        )
        self._vectors: dict[tuple[str, int, int], np.ndarray] = {}

    def candidates(self, hits: list[Hit], *, attributed: bool = True) -> list[Candidate]:
        """The sentences of `hits`; `attributed` also looks up who said each one (needed only
        when the question asks for somebody's words or a title)."""
        seen: set[tuple[str, int]] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(hits[: self.max_chunks]):
            base = int(hit.meta["start"])
            chunk_terms = frozenset(terms(hit.text))
            spans = split_sentences(hit.text, base)
            sentences = [hit.text[s - base : e - base] for s, e in spans]
            for i, (start, end) in enumerate(spans):
                key = (str(hit.meta["file"]), start)
                text = sentences[i]
                before = sentences[i - 1] if i else ""
                after = sentences[i + 1] if i + 1 < len(sentences) else ""
                # "Krasnov said:" only introduces a quote: on its own it supports nothing.
                if key in seen or len(text.split()) < 4 or text.rstrip().endswith(":"):
                    continue
                seen.add(key)
                out.append(
                    Candidate(
                        rank,
                        hit.meta,
                        start,
                        end,
                        text,
                        chunk_terms,
                        hit.text,
                        base,
                        hit.dense,
                        antecedent=antecedent_terms(text, before),
                        attribution=self._attribution(hit, start, after) if attributed else "",
                    )
                )
        return out

    def _attribution(self, hit: Hit, start: int, after: str) -> str:
        """The sentence saying who said the one at `start`: "This is what X said" right after
        it, else the "X said:" that opened the quotation it stands in (or nothing)."""
        if BACK_REFERENCE.match(after):
            return after
        return quote_opener(self.article_text(str(hit.meta["file"])), start)

    def _sentence_vectors(self, cands: list[Candidate]) -> np.ndarray:
        keys = [(str(c.meta.get("content_hash", c.meta["file"])), c.start, c.end) for c in cands]
        missing = [i for i, k in enumerate(keys) if k not in self._vectors]
        if missing:
            vectors = self.embed([cands[i].text for i in missing])
            for i, vector in zip(missing, vectors, strict=True):
                self._vectors[keys[i]] = vector
        return np.stack([self._vectors[k] for k in keys])

    @staticmethod
    def _have(info: QuestionInfo, cand: Candidate) -> set[str]:
        """The sentence's terms, plus the person its leading pronoun refers to."""
        return sentence_terms(info, cand.text) | cand.antecedent

    def _total(self, info: QuestionInfo, cand: Candidate, dense: float, lexical: float) -> float:
        w = self.weights
        context = question_coverage(info, cand.chunk_terms, self.idf)
        type_ok = float(cand.type_ok)
        if info.kind == "list" and type_ok and not _ENUMERATION.search(cand.text):
            type_ok = 0.5  # commas alone; "such as …", "including …" or "…: a, b" is a real list
        total = (
            w.dense * dense
            + w.lexical * lexical
            + w.context * context
            + w.answer_type * type_ok
            + w.rank / (1 + cand.hit_rank)
        )
        if info.kind in ("who", "when", "number", "where") and near_answer(
            info, cand.text, self.names
        ):
            total += w.proximity
        if info.kind == "list" and enumerates_head(info, cand.text):
            total += w.list_head
        date = str(cand.meta.get("date") or "")
        if info.years and date:
            total += w.date_match if int(date[:4]) in info.years else -w.date_match
        return total

    def score(
        self, info: QuestionInfo, qvec: np.ndarray, cands: list[Candidate]
    ) -> list[Candidate]:
        """Candidates scored in three passes: a cheap one with the chunk's similarity standing
        in for the sentence's, then the best few with their own embeddings, then the top of
        those re-scored with synonym-aware term matching."""
        if not cands:
            return []
        cands = [replace(c, type_ok=type_match(info, c.text, self.names)) for c in cands]  # once
        lexicals = [question_coverage(info, self._have(info, c), self.idf) for c in cands]
        cheap = sorted(
            range(len(cands)),
            key=lambda i: -self._total(info, cands[i], cands[i].chunk_dense, lexicals[i]),
        )[: self.weights.prefilter]
        cands = [cands[i] for i in cheap]
        dense = self._sentence_vectors(cands) @ qvec
        scored = []
        for cand, d, lexical in zip(cands, dense, [lexicals[i] for i in cheap], strict=True):
            scored.append(
                replace(
                    cand,
                    score=self._total(info, cand, float(d), lexical),
                    dense=float(d),
                    lexical=lexical,
                )
            )
        scored.sort(key=lambda c: -c.score)
        head = scored[: self.weights.rerank]
        self.soft.prefetch([info.text, *(c.text for c in head)])  # one model call, not one each
        for k, cand in enumerate(head):
            have = self._have(info, cand)
            soft = soft_coverage(info, cand.text, have, self.idf, self.soft)
            if soft > cand.lexical:
                head[k] = replace(
                    cand, lexical=soft, score=self._total(info, cand, cand.dense, soft)
                )
        if info.role and self.weights.speaker_role:  # "How did the chief prosecutor describe …"
            head = [
                replace(c, score=c.score + self.weights.speaker_role)
                if self.attribution.role_fit(info, c) > 0
                else c
                for c in head
            ]
        return sorted(head, key=lambda c: -c.score) + scored[len(head) :]

    def unsupported(self, info: QuestionInfo, cand: Candidate) -> float:
        """IDF share of the question made of words the articles never use and the sentence lacks."""
        absent = [
            w
            for w in dict.fromkeys(words(info.text))
            if w.lower() not in STOPWORDS
            and w.lower() not in _QUESTION_WORDS
            and w.lower() not in _SCAFFOLDING
            and not (w.isdigit() and int(w) in info.years)  # years are matched on article dates
            and not self.known(stem(w))
        ]
        total = sum(self.idf(t) for t in info.terms)
        if not absent or not total:
            return 0.0
        missing = self.soft.unmatched(absent, cand.text)
        return sum(self.idf(stem(w)) for w in missing) / total

    def missing_entities(self, info: QuestionInfo, cand: Candidate) -> list[str]:
        """Names in the question (known to the articles) that the sentence's chunk never uses."""
        have = self._have(info, cand)
        file = str(cand.meta.get("file"))

        def present(term: str) -> bool:
            return term in have or self.article_has(file, term)

        return [
            t
            for t in info.entities
            if t in self._name_terms
            and self.known(t)
            and not present(t)
            # "Tehran's envoy": a capital stands for its country ("Iranian Ambassador")
            and not ((country := country_alias(t)) and present(stem(country)))
        ]

    def unknown_heads(self, info: QuestionInfo, cand: Candidate) -> list[str]:
        """Head words of the question that the articles never use and the sentence can't match."""
        absent = [
            w for w in info.heads if w.lower() not in _SCAFFOLDING and not self.known(stem(w))
        ]
        return self.soft.unmatched(absent, cand.text, threshold=0.6) if absent else []

    def supported(self, info: QuestionInfo, best: Candidate) -> bool:
        w = self.weights
        if best.score < w.min_score or best.dense < w.min_dense:
            return False
        if w.require_entities and self.missing_entities(info, best):
            return False
        if w.check_heads and self.unknown_heads(info, best):
            return False
        return self.unsupported(info, best) < w.max_unsupported

    def best(self, info: QuestionInfo, ranked: list[Candidate]) -> Candidate | None:
        """The top sentence that fits, among those near the top score: a typed question
        (who/when/…) takes one of the right type, a list question one that lists the asked noun.

        A sentence where somebody other than the asked speaker speaks is no competitor at all
        ("What did Krasnov say …" vs "Davtyan … stated …"), so it does not set the margin.
        """
        w = self.weights
        if w.check_speakers and (info.speaker or info.role):
            kept = [c for c in ranked if not self.attribution.other_speaker(info, c)]
            if kept and ranked and kept[0] is not ranked[0]:
                # The wrong speaker's sentence matched best. The next one must be the asked
                # speaker's, and as close in meaning or holding the question's content words;
                # otherwise it is about something else.
                nearest = kept[0]
                if not self.attribution.asked_speaker_speaks(info, nearest) or (
                    nearest.dense < ranked[0].dense - 0.05
                    and self._content_coverage(info, nearest) < 0.5
                ):
                    return None
            ranked = kept
        if not ranked:
            return None
        typed = w.require_type and info.kind in ("who", "when", "number", "where", "list")
        fits = []
        for cand in ranked:
            if cand.score < ranked[0].score - w.fallback_margin:
                break
            fit = self._with_neighbour(info, cand) if typed else cand
            if fit is None:
                continue
            if w.require_entities and self.missing_entities(info, fit):
                continue
            if w.check_titles and info.title and not self.attribution.names_title_holder(info, fit):
                continue  # nobody in it holds the asked title (an ambassador, not a prosecutor)
            fits.append(fit)
        if w.check_speakers and (info.speaker or info.role):
            # "What did the envoy say …": his words, not a sentence that merely names him.
            speaking = [c for c in fits if self.attribution.asked_speaker_speaks(info, c)]
            if info.speaker and info.speaker.title() in self.names and not speaking:
                return None  # "What did Putin say about …": nothing he is reported saying
            fits = speaking or fits
        if info.kind == "list" and w.list_head:
            listing = next((c for c in fits if enumerates_head(info, c.text)), None)
            if listing is not None:
                return listing
        return fits[0] if fits else None

    def _content_coverage(self, info: QuestionInfo, cand: Candidate) -> float:
        """IDF share of the question's terms, less its names and the asked speaker's title, that
        the sentence uses."""
        aside = set(info.entities) | {stem(w) for w in info.role} | {info.speaker or ""}
        content = [t for t in info.terms if t not in aside]
        total = sum(self.idf(t) for t in content)
        have = self._have(info, cand)
        return sum(self.idf(t) for t in content if t in have) / total if total else 1.0

    def _with_neighbour(self, info: QuestionInfo, cand: Candidate) -> Candidate | None:
        """`cand` itself if of the right type, else it joined with an adjacent sentence that is."""
        if cand.type_ok:
            return cand
        base = cand.chunk_start
        spans = split_sentences(cand.chunk_text, base)
        starts = [s for s, _ in spans]
        if cand.start not in starts:
            return None
        i = starts.index(cand.start)
        for j in (i + 1, i - 1):
            if not 0 <= j < len(spans):
                continue
            lo, hi = min(spans[i][0], spans[j][0]), max(spans[i][1], spans[j][1])
            text = cand.chunk_text[lo - base : hi - base]
            neighbour = cand.chunk_text[spans[j][0] - base : spans[j][1] - base]
            if len(text.split()) <= self.weights.max_passage_words and type_match(
                info, neighbour, self.names
            ):
                return replace(cand, start=lo, end=hi, text=text, type_ok=True)
        return None

    def select(self, info: QuestionInfo, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentence; for list questions up to three, skipping near-duplicates (MMR)."""
        top = self.best(info, ranked)
        if top is None or not self.supported(info, top):
            return []
        chosen = [top]
        if info.wants_several:
            for cand in ranked:
                if cand is top:
                    continue
                if len(chosen) == 3 or cand.score < top.score - 0.08:
                    break
                cand_terms = set(terms(cand.text))
                overlap = max(
                    len(cand_terms & set(terms(c.text))) / max(1, len(cand_terms)) for c in chosen
                )
                # Another sentence joins only if it, too, lists the asked items by name.
                if overlap < 0.5 and cand.type_ok and enumerates_head(info, cand.text):
                    chosen.append(cand)
        trimmed = [self._trim(c, info) for c in chosen]
        kept = trimmed[:1]
        for cand in trimmed[1:]:  # an answer stays short: at most MAX_ANSWER_WORDS in all
            if sum(len(c.text.split()) for c in kept) + len(cand.text.split()) <= MAX_ANSWER_WORDS:
                kept.append(cand)
        return kept

    def _trim(self, cand: Candidate, info: QuestionInfo) -> Candidate:
        """A long sentence is cut to its best window of clauses (still verbatim, at its offsets)."""
        if len(cand.text.split()) <= MAX_QUOTE_WORDS:
            return cand
        cuts = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(cand.text)] + [len(cand.text)]
        best: tuple[float, int, int] | None = None
        for i in range(len(cuts) - 1):
            for j in range(i + 1, len(cuts)):
                piece = cand.text[cuts[i] : cuts[j]]
                n_words = len(piece.split())
                if n_words > MAX_QUOTE_WORDS:
                    break
                value = question_coverage(info, sentence_terms(info, piece), self.idf)
                value += 0.5 * type_match(info, piece, self.names) + 0.002 * n_words
                if best is None or value > best[0]:
                    best = (value, cuts[i], cuts[j])
        if best is None:
            return cand
        _, lo, hi = best
        piece = cand.text[lo:hi]
        lo += len(piece) - len(piece.lstrip())
        hi -= len(piece) - len(piece.rstrip())
        return replace(cand, start=cand.start + lo, end=cand.start + hi, text=cand.text[lo:hi])

    def answer(
        self,
        question: str,
        query: str,
        qvec: np.ndarray,
        hits: list[Hit],
        prefer_files: frozenset[str] = frozenset(),
        focus: str | None = None,
    ) -> Answer:
        """`prefer_files`: the previous turn's articles, which a follow-up most likely continues;
        `focus`: the part of `query` the answer must match (the rest is carried context)."""
        info = analyse(focus or query, query if focus and focus != query else "")
        attributed = bool(info.speaker or info.role)
        ranked = self.score(info, qvec, self.candidates(hits, attributed=attributed))
        if prefer_files:
            bonus = self.weights.continuity
            ranked = sorted(
                (
                    replace(c, score=c.score + bonus) if c.meta.get("file") in prefer_files else c
                    for c in ranked
                ),
                key=lambda c: -c.score,
            )
        chosen = self.select(info, ranked)
        rewritten = query if query != question else ""
        if not chosen:
            return Answer(question, NOT_FOUND_TEXT, [], False, rewritten)
        sources: list[Source] = []
        parts: list[str] = []
        for cand in chosen:
            n = len(sources) + 1
            meta = cand.meta
            sources.append(
                Source(
                    n=n,
                    file=str(meta["file"]),
                    title=meta.get("title") or None,
                    date=meta.get("date") or None,
                    author=meta.get("author") or None,
                    quote=cand.text,
                    start=cand.start,
                    end=cand.end,
                    score=round(cand.score, 4),
                )
            )
            parts.append(f"{self._display(info, cand.text)} [{n}]")
        return Answer(question, " ".join(parts), sources, True, rewritten)

    def _display(self, info: QuestionInfo, quote: str) -> str:
        """The quote on one line, its answer span in bold, with … where it was cut."""
        span = best_span(info, quote, self.names)
        if span:
            s, e = span
            quote = f"{quote[:s]}**{quote[s:e]}**{quote[e:]}"
        text = " ".join(quote.split())
        if text and text[0].islower():
            text = "…" + text
        if text and text[-1] not in '.!?”"':
            text = text.rstrip(",;:") + "…"
        return text
