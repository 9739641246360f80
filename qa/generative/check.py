"""The citation check: every sentence of a model's answer must be supported by a passage it
cites. A citation outside 1..k is removed; a sentence its cited passage does not support is
re-attached to the passage that does, or dropped; what is left is what the answer may say."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.generative.passages import Passage
from qa.generative.support import Support, SupportScorer
from qa.question_input import strip_controls
from qa.sentences import split_sentences
from qa.text import terms

# [1], [1, 2], [1][2], [passage 1], [Passage 1 and 3]
_CITATION = re.compile(
    r"\[\s*(?:passages?\s*)?(\d{1,4}(?:\s*(?:,|;|and|&)\s*(?:passages?\s*)?\d{1,4})*)\s*\]",
    re.IGNORECASE,
)
# Citations written after the full stop belong to the sentence before it: "X. [1]" → "X [1]."
_AFTER_STOP = re.compile(r"([.!?]+)((?:\s*\[[^\[\]\n]{1,40}\])+)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_REFUSAL = re.compile(
    r"\b(?:do(?:es)?\s*n[o']?t|do(?:es)? not|never|cannot|can't|unable to|no)\b.{0,40}"
    r"\b(?:say|says|mention|mentioned|state|states|contain|answer|provide|specify|information)\b",
    re.IGNORECASE,
)
MIN_CLAIM_TERMS = 2  # "Yes [1]." says nothing a passage could support


@dataclass(frozen=True)
class Sentence:
    """One sentence of the model's output and what the check made of it."""

    claim: str  # the sentence without its citation markers
    cited: tuple[int, ...]  # the citations it carried, in range or not
    supports: tuple[Support, ...] = ()  # the windows that support it (empty: dropped)
    status: str = "dropped"  # "kept", "re-attached", "dropped" or "refusal"


@dataclass(frozen=True)
class Checked:
    """The checked output: its sentences, and what had to be repaired."""

    sentences: list[Sentence] = field(default_factory=list)
    invented: int = 0  # citations outside 1..k, removed

    @property
    def kept(self) -> list[Sentence]:
        return [s for s in self.sentences if s.supports]

    @property
    def dropped(self) -> list[Sentence]:
        return [s for s in self.sentences if s.status == "dropped"]

    @property
    def refused(self) -> bool:
        """The model said the articles don't say, and nothing it said is supported."""
        return not self.kept and any(s.status == "refusal" for s in self.sentences)


def cited_numbers(sentence: str) -> tuple[int, ...]:
    found: list[int] = []
    for m in _CITATION.finditer(sentence):
        found += [int(n) for n in re.findall(r"\d+", m.group(1))]
    return tuple(dict.fromkeys(found))


def claim_of(sentence: str) -> str:
    """The sentence as plain text: markers and list bullets removed, spaces collapsed."""
    text = _BULLET.sub("", _CITATION.sub("", sentence))
    text = " ".join(text.split())
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip()


def split_output(text: str) -> list[str]:
    """The model's text as sentences, each with the citations that belong to it."""
    out: list[str] = []
    for line in strip_controls(text.replace("\r", "\n")).split("\n") if text else []:
        line = _AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", line.strip())
        out += [line[s:e] for s, e in split_sentences(line)]
    return out


def check(text: str, passages: list[Passage], scorer: SupportScorer) -> Checked:
    """Check every sentence of `text` against the passages it cites (numbered from 1)."""
    k = len(passages)
    sentences, invented = [], 0
    for raw in split_output(text):
        cited = cited_numbers(raw)
        claim = claim_of(raw)
        valid = [n for n in cited if 1 <= n <= k]
        invented += len(cited) - len(valid)
        if len(set(terms(claim))) < MIN_CLAIM_TERMS:
            continue
        if not valid and _REFUSAL.search(claim):
            sentences.append(Sentence(claim, cited, (), "refusal"))
            continue
        supports = [s for n in valid if (s := scorer.best(claim, [passages[n - 1]]))]
        status = "kept"
        if not supports:
            elsewhere = scorer.best(claim, passages)
            supports, status = ([elsewhere], "re-attached") if elsewhere else ([], "dropped")
        sentences.append(Sentence(claim, cited, tuple(supports), status))
    return Checked(sentences, invented)
