"""One settings object: every path and knob, resolved from `QA_*` environment variables."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.errors import UserError

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Dev tools only (`newsqa train`, `newsqa eval --bbc`): the BBC corpus beside the project and the
# store built from it; QA_BBC_DIR and QA_BBC_STORE_DIR override them.
BBC_CORPUS = PROJECT_DIR.parent / "shared" / "corpora" / "bbc"
BBC_STORE = PROJECT_DIR / "store-bbc"
MB = 1024 * 1024
# A news article is ~5 KB; 5 MB is a thousand of them (a book-length text). Tagging and embedding
# 5 MB takes a few minutes here, so anything bigger is a log, a dump or an e-book: skipped.
DEFAULT_MAX_ARTICLE_MB = 5
DEFAULT_MAX_ARTICLE_BYTES = DEFAULT_MAX_ARTICLE_MB * MB
# A local model on two cores writes ~10-30 tokens/s; a 3-sentence answer fits well inside this.
DEFAULT_LLM_TIMEOUT = 120.0


def _default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/newsqa, else ~/.cache/newsqa: files newsqa derives once (the int8 model)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base).expanduser() / "newsqa"
    try:
        return Path.home() / ".cache" / "newsqa"
    except RuntimeError:  # no HOME and no passwd entry (some containers)
        return Path(tempfile.gettempdir()) / "newsqa-cache"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise UserError(f"{name} must be an integer, got {value!r}") from None


_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")


def _env_switch(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise UserError(f"{name} must be on or off, got {value!r}")


def _env_rerank(name: str, default: str) -> str:
    """off, on or auto (on/off also as 1/0, true/false, yes/no)."""
    raw = os.environ.get(name, "")
    value = raw.strip().lower()
    if not value:
        return default
    if value == "auto":
        return value
    if value in _ON:
        return "on"
    if value in _OFF:
        return "off"
    raise UserError(f"{name} must be off, on or auto, got {raw!r}")


def _env_positive(name: str, unit: str) -> float | None:
    """A positive number (decimals allowed) from the environment, None if unset."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < float("inf"):
        raise UserError(f"{name} must be a positive number of {unit}, got {value!r}")
    return number


def _env_seconds(name: str, default: float) -> float:
    seconds = _env_positive(name, "seconds")
    return default if seconds is None else seconds


def _env_megabytes(name: str, default: int) -> int:
    """A positive size in MB (decimals allowed) from the environment, as bytes."""
    megabytes = _env_positive(name, "megabytes")
    return default if megabytes is None else max(1, int(megabytes * MB))


@dataclass(frozen=True)
class Settings:
    """Where the articles and the store live, and how retrieval and embedding behave."""

    seeds_dir: Path = field(default_factory=lambda: PROJECT_DIR / "seeds")
    store_dir: Path = field(default_factory=lambda: PROJECT_DIR / "store")
    cache_dir: Path = field(default_factory=_default_cache_dir)
    chroma_url: str | None = None
    chroma_token: str | None = field(default=None, repr=False)
    collection: str = "newsqa"
    top_k: int = 12
    threads: int = 2
    batch_size: int = 32
    chunk_tokens: int = 192
    chunk_overlap: int = 24
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES  # bigger article files are skipped
    llm: str | None = None  # a generative answerer's spec (qa.generative.spec), None: extractive
    llm_api_key: str | None = field(default=None, repr=False)  # never printed, logged or shown
    llm_timeout: float = DEFAULT_LLM_TIMEOUT  # seconds for one generative answer
    # off: never; auto: the cross-encoder rescores the ranker's best two and decides refusal where
    # the ranker is unsure; on: always, its best five (qa.reader.rerank)
    rerank: str = "off"

    @classmethod
    def from_env(cls) -> Settings:
        """Defaults overridden by QA_SEEDS_DIR, QA_STORE_DIR, QA_CHROMA_URL, QA_CHROMA_TOKEN, …"""
        base = cls()
        return replace(
            base,
            seeds_dir=_env_path("QA_SEEDS_DIR", base.seeds_dir),
            store_dir=_env_path("QA_STORE_DIR", base.store_dir),
            cache_dir=_env_path("QA_CACHE_DIR", base.cache_dir),
            chroma_url=os.environ.get("QA_CHROMA_URL") or None,
            chroma_token=os.environ.get("QA_CHROMA_TOKEN") or None,
            collection=os.environ.get("QA_COLLECTION") or base.collection,
            top_k=_env_int("QA_TOP_K", base.top_k),
            threads=_env_int("QA_THREADS", base.threads),
            batch_size=_env_int("QA_BATCH_SIZE", base.batch_size),
            chunk_tokens=_env_int("QA_CHUNK_TOKENS", base.chunk_tokens),
            chunk_overlap=_env_int("QA_CHUNK_OVERLAP", base.chunk_overlap),
            max_article_bytes=_env_megabytes("QA_MAX_ARTICLE_MB", base.max_article_bytes),
            llm=os.environ.get("QA_LLM") or None,
            llm_api_key=os.environ.get("QA_LLM_API_KEY") or None,
            llm_timeout=_env_seconds("QA_LLM_TIMEOUT", base.llm_timeout),
            rerank=_env_rerank("QA_RERANK", base.rerank),
        )

    @classmethod
    def bbc(cls) -> Settings:
        """Settings for the BBC corpus and its own store (the dev tools' ground)."""
        return cls.from_env().with_overrides(
            seeds=_env_path("QA_BBC_DIR", BBC_CORPUS),
            store=_env_path("QA_BBC_STORE_DIR", BBC_STORE),
        )

    def with_overrides(
        self,
        *,
        seeds: str | Path | None = None,
        store: str | Path | None = None,
        chroma_url: str | None = None,
        top_k: int | None = None,
        llm: str | None = None,
    ) -> Settings:
        """A copy with the given non-None values replaced (CLI flags and `ask()` keywords)."""
        return replace(
            self,
            llm=llm if llm is not None else self.llm,
            seeds_dir=Path(seeds).expanduser() if seeds is not None else self.seeds_dir,
            store_dir=Path(store).expanduser() if store is not None else self.store_dir,
            chroma_url=chroma_url if chroma_url is not None else self.chroma_url,
            top_k=top_k if top_k is not None else self.top_k,
        )
