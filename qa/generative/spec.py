"""`--llm` specs: `llamacpp:PATH.gguf`, `ollama:MODEL[@URL]`, `openai:MODEL@BASE_URL`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from qa.errors import UserError

KINDS = ("llamacpp", "ollama", "openai")
OLLAMA_URL = "http://127.0.0.1:11434"
OFF = ("", "none", "off", "extractive")  # specs that mean "no LLM: the extractive reader"
USAGE = "use llamacpp:PATH.gguf, ollama:MODEL[@URL] or openai:MODEL@BASE_URL"


@dataclass(frozen=True)
class LLMSpec:
    """Which backend, which model, and where: the parsed form of one `--llm` value."""

    kind: str
    model: str  # a model name, or the GGUF file's path for llamacpp
    url: str | None = None

    @property
    def label(self) -> str:
        """Short name shown beside an answer: `ollama:MODEL`, `llamacpp:FILE.gguf`."""
        name = Path(self.model).name if self.kind == "llamacpp" else self.model
        return f"{self.kind}:{name}"

    @property
    def where(self) -> str:
        """The label with the server's address (no user or password part of the URL)."""
        if not self.url:
            return self.label
        parts = urlsplit(self.url)
        return f"{self.label} at {parts.scheme}://{parts.hostname}" + (
            f":{parts.port}" if parts.port else ""
        )


def _url(value: str, spec: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--llm {spec!r}: {value!r} is not an http(s) URL; {USAGE}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise UserError(f"--llm {spec!r}: {value!r} has a bad port; {USAGE}") from None
    return value.rstrip("/")


def parse_spec(spec: str | None) -> LLMSpec | None:
    """The spec parsed and checked for form (not whether the model exists); None means off."""
    text = (spec or "").strip()
    if text.lower() in OFF:
        return None
    kind, colon, rest = text.partition(":")
    kind = kind.lower()
    if not colon or kind not in KINDS:
        raise UserError(f"--llm {text!r} is not an LLM spec; {USAGE}")
    if kind == "llamacpp":
        if not rest.strip():
            raise UserError(f"--llm {text!r}: give the GGUF file's path, llamacpp:PATH.gguf")
        return LLMSpec(kind, str(Path(rest.strip()).expanduser()))
    model, at, url = rest.partition("@")
    model = model.strip()
    if not model:
        raise UserError(f"--llm {text!r}: the model name is missing; {USAGE}")
    if kind == "openai" and not at:
        raise UserError(f"--llm {text!r}: give the server, openai:MODEL@BASE_URL")
    if at and not url.strip():
        raise UserError(f"--llm {text!r}: the URL after @ is missing; {USAGE}")
    return LLMSpec(kind, model, _url(url.strip(), text) if at else OLLAMA_URL)
