"""LLM backends through llama-index's LLM classes, imported only when a backend is opened."""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from qa.errors import UserError
from qa.generative.passages import MAX_PASSAGES
from qa.generative.spec import OLLAMA_URL, LLMSpec
from qa.settings import Settings

LOCAL_PASSAGES = 3  # a local model on two cores reads ~600 prompt tokens in a few seconds
MAX_NEW_TOKENS = 256  # a few cited sentences; a longer answer is cut here
CONTEXT_TOKENS = 8192  # said explicitly: Ollama would otherwise ask the server (/api/show)
# llama.cpp's OpenMP threads spin-wait between tokens by default; on a machine whose cores are
# busy with other work that spinning took the cores from each other (SmolLM2 on 2 cores beside
# another job: median 14.4 s per answer, 5.7 s passive; README "Generative answers"). libgomp
# reads this once, when llama-cpp-python's library loads; a value the user set is kept.
OMP_WAIT = ("OMP_WAIT_POLICY", "PASSIVE")
INSTALL = "install the LLM extra: pip install -e '.[llm]'"
LLAMACPP_BUILD = (
    "install the LLM extra (llama-cpp-python compiles from source, see README): "
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
    "pip install -e '.[llm]'"
)
Messages = Sequence[tuple[str, str]]  # (role, content): "system", "user" or "assistant"


class BackendError(Exception):
    """The backend failed while answering (down, slow, garbage): said in one line, key-free."""


class Backend:
    """One opened LLM: streams or returns the text of a chat reply; errors become BackendError."""

    def __init__(self, spec: LLMSpec, llm: Any, secret: str | None = None) -> None:
        self.spec = spec
        self._llm = llm
        self._secret = secret
        # One local model is not thread-safe: its requests take turns (a server's need not).
        self._turns = threading.Lock() if spec.kind == "llamacpp" else None

    @property
    def passages(self) -> int:
        """How many passages to show it: a CPU-bound local model reads ~50-150 tokens/s."""
        return LOCAL_PASSAGES if self.spec.kind == "llamacpp" else MAX_PASSAGES

    def __repr__(self) -> str:
        return f"Backend({self.spec.where!r})"

    @property
    def label(self) -> str:
        return self.spec.label

    def stream(self, messages: Messages) -> Generator[str, None, None]:
        """The reply's text, piece by piece as it is written; closing the iterator stops it."""
        chunks = None
        if self._turns is not None:
            self._turns.acquire()
        try:
            chunks = self._llm.stream_chat(_chat_messages(messages))
            for chunk in chunks:
                delta = chunk.delta
                if delta:
                    yield str(delta)
        except GeneratorExit:
            raise
        except Exception as exc:
            raise BackendError(self.describe(exc)) from None
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            if self._turns is not None:
                self._turns.release()

    def complete(self, messages: Messages) -> str:
        """The whole reply at once (the non-streaming request)."""
        try:
            if self._turns is not None:
                with self._turns:
                    reply = self._llm.chat(_chat_messages(messages))
            else:
                reply = self._llm.chat(_chat_messages(messages))
            return str(reply.message.content or "")
        except Exception as exc:
            raise BackendError(self.describe(exc)) from None

    def describe(self, exc: BaseException) -> str:
        """One line saying what went wrong, with the API key (if any) blanked out."""
        names = [k.__name__ for k in type(exc).__mro__]
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        if any("Timeout" in n for n in names):
            reason = "it did not answer in time"
        elif any("Connect" in n for n in names):
            reason = f"cannot connect ({detail})"
        else:
            reason = f"{type(exc).__name__}: {detail}"
        message = f"the LLM {self.spec.where} failed: {reason}"
        return message.replace(self._secret, "***") if self._secret else message


def _chat_messages(messages: Messages) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=role, content=content) for role, content in messages]


def _ollama(spec: LLMSpec, settings: Settings) -> Any:
    try:
        from llama_index.llms.ollama import Ollama
    except ImportError:
        raise UserError(f"--llm {spec.label} needs llama-index-llms-ollama; {INSTALL}") from None
    return Ollama(
        model=spec.model,
        base_url=spec.url or OLLAMA_URL,
        request_timeout=settings.llm_timeout,
        temperature=0.0,
        context_window=CONTEXT_TOKENS,
        additional_kwargs={"num_predict": MAX_NEW_TOKENS},
        is_function_calling_model=False,
    )


def _openai(spec: LLMSpec, settings: Settings) -> Any:
    try:
        from llama_index.llms.openai_like import OpenAILike
    except ImportError:
        raise UserError(
            f"--llm {spec.label} needs llama-index-llms-openai-like; {INSTALL}"
        ) from None
    return OpenAILike(
        model=spec.model,
        api_base=spec.url,
        # A placeholder when QA_LLM_API_KEY is unset, so OPENAI_API_KEY is never sent elsewhere.
        api_key=settings.llm_api_key or "no-key",
        is_chat_model=True,
        is_function_calling_model=False,
        context_window=CONTEXT_TOKENS,
        max_tokens=MAX_NEW_TOKENS,
        temperature=0.0,
        timeout=settings.llm_timeout,
        max_retries=0,
    )


def _llamacpp(spec: LLMSpec, settings: Settings) -> Any:
    path = Path(spec.model)
    if not path.is_file():
        raise UserError(f"--llm llamacpp: no GGUF model file at {path}")
    os.environ.setdefault(*OMP_WAIT)
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError:
        raise UserError(
            f"--llm {spec.label} needs llama-index-llms-llama-cpp and llama-cpp-python; "
            + LLAMACPP_BUILD
        ) from None
    from qa.generative.chat_template import ChatTemplate

    template = ChatTemplate()
    try:
        llm = LlamaCPP(
            model_path=str(path),
            temperature=0.0,
            max_new_tokens=MAX_NEW_TOKENS,
            context_window=CONTEXT_TOKENS,
            generate_kwargs={},
            model_kwargs={
                "n_threads": max(1, settings.threads),
                "n_threads_batch": max(1, settings.threads),
            },
            messages_to_prompt=template.messages_to_prompt,
            completion_to_prompt=template.completion_to_prompt,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise UserError(f"--llm llamacpp: cannot load {path}: {exc}") from None
    template.use(llm)
    return llm


_OPENERS = {"ollama": _ollama, "openai": _openai, "llamacpp": _llamacpp}
_opened: dict[tuple[LLMSpec, str | None, float, int], Backend] = {}
_opened_lock = threading.Lock()


def open_backend(spec: LLMSpec, settings: Settings) -> Backend:
    """The backend for `spec`, opened once per process (a local model loads once)."""
    key = (spec, settings.llm_api_key, settings.llm_timeout, settings.threads)
    with _opened_lock:
        backend = _opened.get(key)
        if backend is None:
            llm = _OPENERS[spec.kind](spec, settings)
            backend = _opened[key] = Backend(spec, llm, settings.llm_api_key)
        return backend
