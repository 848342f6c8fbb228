"""Prompts for models that are not gpt-oss, through the chat template stored in their GGUF.

This keeps other local models usable (answer only, no reasoning view) and lets
tests run real small models such as SmolLM2.
"""

from __future__ import annotations

from collections.abc import Mapping

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from ..harmony import Conversation
from .big_stack import tokenize_text

#: Used when a GGUF carries no template of its own.
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class TemplatePrompt:
    """Renders a conversation with the model's own Jinja chat template."""

    def __init__(self, llama: llama_cpp.Llama, metadata: Mapping[str, str]) -> None:
        self._llama = llama
        vocab = llama_cpp.llama_model_get_vocab(llama.model)

        def token_text(token: int) -> str:
            if token < 0:
                return ""
            return str(llama_cpp.llama_vocab_get_text(vocab, token).decode("utf-8", errors="replace"))

        self._formatter = Jinja2ChatFormatter(
            template=metadata.get("tokenizer.chat_template") or CHATML,
            eos_token=token_text(llama.token_eos()),
            bos_token=token_text(llama.token_bos()),
        )

    def ids(self, conversation: Conversation) -> list[int]:
        """Token ids of the rendered template (it writes its own BOS where it wants one)."""
        messages: list[dict[str, str]] = []
        if conversation.instructions and conversation.instructions.strip():
            messages.append({"role": "system", "content": conversation.instructions})
        messages += [{"role": m.role, "content": m.content} for m in conversation.messages]
        try:
            prompt = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        except Exception as exc:  # a broken template in a downloaded file must not crash the app
            raise ValueError(f"The model's chat template failed: {exc}") from exc
        return tokenize_text(
            lambda text: self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True), prompt
        )
