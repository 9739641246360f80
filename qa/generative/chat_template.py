"""A local GGUF model's own chat template (its `tokenizer.chat_template`), for LlamaCPP prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# ChatML: what SmolLM2, Qwen and many small instruct models use; the fallback when a GGUF file
# carries no template of its own.
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class ChatTemplate:
    """Renders llama-index chat messages with the template of the model it is `use`d with."""

    def __init__(self) -> None:
        self.source = CHATML
        self.bos = ""
        self.eos = "<|im_end|>"
        self._compiled: Any = None

    def use(self, llm: Any) -> None:
        """Take the loaded model's template and end-of-text token; stop generating at it."""
        model = llm._model
        metadata = getattr(model, "metadata", None) or {}
        self.source = str(metadata.get("tokenizer.chat_template") or CHATML)
        self.bos = _token_text(model, model.token_bos())
        self.eos = _token_text(model, model.token_eos()) or self.eos
        self._compiled = None
        stops = [s for s in (self.eos, "<|im_end|>") if s]
        llm.generate_kwargs["stop"] = list(dict.fromkeys(stops))

    def render(self, messages: Sequence[dict[str, str]]) -> str:
        if self._compiled is None:
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            self._compiled = env.from_string(self.source)
        return str(
            self._compiled.render(
                messages=list(messages),
                add_generation_prompt=True,
                bos_token=self.bos,
                eos_token=self.eos,
            )
        )

    def messages_to_prompt(self, messages: Sequence[Any]) -> str:
        return self.render(
            [{"role": str(m.role.value), "content": str(m.content or "")} for m in messages]
        )

    def completion_to_prompt(self, completion: str) -> str:
        return self.render([{"role": "user", "content": completion}])


def _token_text(model: Any, token: int) -> str:
    if token is None or token < 0:
        return ""
    try:
        return str(model._model.token_get_text(token))
    except (AttributeError, RuntimeError, ValueError):
        return ""
