"""Tokenizing any text without overflowing a stack, on any thread.

llama.cpp's gpt-4o pre-tokenizer (gpt-oss's) splits text with a std::regex whose matching
recurses once per character of a match: a run of 30,000 letters, 60,000 dots or 50,000 spaces
is one match and overflows an 8 MiB stack (about 340 bytes a character here), killing the
process. macOS gives secondary threads 512 KiB, so there far shorter runs do it.

So a text longer than DIRECT_CHARS is tokenized on a short-lived thread whose stack is sized
for it (STACK_PER_CHAR a character, virtual memory: only what the recursion touches is used).
A text longer than PIECE_CHARS is first cut into pieces at places where the pre-tokenizer
always splits (just after a line break between two visible characters), so the ids are exactly
llama.cpp's for the whole text; only where a piece could not be cut there (hundreds of
thousands of characters without such a line break) is it cut at PIECE_CHARS, and a token or
two at that cut may differ from what llama.cpp would give with an unlimited stack.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

#: Texts up to this long are tokenized on the calling thread: at most ~350 kB of stack.
DIRECT_CHARS = 1024
#: Stack reserved per character of the longest piece (measured: ~340 bytes; twice that for other builds).
STACK_PER_CHAR = 700
#: Stack for the thread's own frames besides the recursion.
BASE_STACK = 16 << 20
#: The longest text tokenized as one piece: 500k characters need a 366 MB stack at most.
PIECE_CHARS = 500_000

#: Just after a line break that follows a visible character and comes before one other than "/": every
#: pre-tokenizer llama.cpp has (gpt-4o's, llama 3's, gpt-2's) ends a piece with that line break there and
#: starts the next with that character, whatever surrounds them; whitespace on either side could join the
#: break in one piece or another, and gpt-4o's punctuation runs take a "/" after a line break.
_SAFE_CUT = re.compile(r"(?<=\S\n)(?=[^\s/])")
_thread_start = threading.Lock()


def tokenize_text(tokenize: Callable[[str], list[int]], text: str, piece_chars: int = PIECE_CHARS) -> list[int]:
    """`tokenize(text)`, run where the stack is deep enough for it (any thread may call this)."""
    if len(text) <= DIRECT_CHARS:
        return tokenize(text)
    pieces = cut_text(text, piece_chars)

    def all_pieces() -> list[int]:
        ids: list[int] = []
        for piece in pieces:
            ids += tokenize(piece)
        return ids

    return run_with_stack(all_pieces, max(map(len, pieces)))


def cut_text(text: str, piece_chars: int = PIECE_CHARS) -> list[str]:
    """`text` in pieces of at most `piece_chars` characters, cut where the pre-tokenizer splits anyway."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > piece_chars:
        end = start + piece_chars
        cut = None
        for match in _SAFE_CUT.finditer(text, start + 1, end + 1):
            cut = match.start()
        if cut is None or cut <= start:
            cut = end  # no safe place in a whole piece: only pathological text gets here
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def run_with_stack[T](work: Callable[[], T], chars: int) -> T:
    """`work()` on a new thread with a stack deep enough to tokenize `chars` characters; its result or error.

    Ctrl+C on the calling thread waits for the work to end (a second or two at most) before it is
    raised, so the model is never freed under a tokenizer still reading it.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []
    finished = threading.Event()

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            failure.append(exc)
        finally:
            finished.set()

    with _thread_start:  # the stack size is process-wide: set it for this thread only
        previous = threading.stack_size(BASE_STACK + chars * STACK_PER_CHAR)
        try:
            worker = threading.Thread(target=run, name="tokenizer", daemon=True)
            worker.start()
        finally:
            threading.stack_size(previous)
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            finished.wait()
            break
        except KeyboardInterrupt as exc:
            interrupted = exc
    worker.join()
    if interrupted is not None:
        raise interrupted
    if failure:
        raise failure[0]
    return outcome[0]
