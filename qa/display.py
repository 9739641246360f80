"""Text made safe to print: control characters shown, never obeyed by the terminal."""

from __future__ import annotations

# Characters a terminal would act on instead of showing (ESC starts a colour or title sequence,
# C1 0x9b is a one-byte CSI): each is drawn as one visible stand-in, so offsets still hold.
_CONTROL_PICTURES = {
    **{c: chr(0x2400 + c) for c in range(0x20) if chr(c) not in "\t\n"},  # ␀ … ␛ … ␟
    0x7F: "\u2421",  # ␡
    **{c: "\ufffd" for c in range(0x80, 0xA0)},  # C1 controls: �
}


def visible(text: str) -> str:
    """`text` with every control character but tab and newline replaced by a visible stand-in
    of the same length: what the user sees is what is stored, and the terminal obeys none of it."""
    return text.translate(_CONTROL_PICTURES)
