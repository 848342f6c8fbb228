"""The harmony control tokens, named by their text (ids come from the loaded vocabulary)."""

from __future__ import annotations

START = "<|start|>"
END = "<|end|>"
MESSAGE = "<|message|>"
CHANNEL = "<|channel|>"
CONSTRAIN = "<|constrain|>"
RETURN = "<|return|>"
CALL = "<|call|>"
START_OF_TEXT = "<|startoftext|>"
END_OF_TEXT = "<|endoftext|>"

#: Tokens the renderer and parser give meaning to. Any other special token the
#: model emits is dropped by the parser, never shown.
HARMONY_TOKENS: tuple[str, ...] = (
    START,
    END,
    MESSAGE,
    CHANNEL,
    CONSTRAIN,
    RETURN,
    CALL,
    START_OF_TEXT,
    END_OF_TEXT,
)

#: Sampling stops on these; analysis ends with <|end|>, so that one must not stop it.
STOP_TOKENS: tuple[str, ...] = (RETURN, CALL)
