"""The loop's `python`: a call's code runs as one cell of the conversation's sandboxed session.

What the model reads is the cell's own cut (`CellResult.model_text`); the window gets the fuller
output, the error, and the files the code wrote. Stop during a run interrupts the cell (the kernel
keeps its state when the interrupt is heard). A sandbox that cannot start is told to the model and
the person in words, and the turn goes on.
"""

from __future__ import annotations

from ..cancel import CancelFlag
from ..events import ToolCall, ToolFile, ToolResult
from .python_tool import CellResult, PythonSession, SandboxUnavailableError


class PythonCalls:
    """Runs python calls in one session (engine thread; one call at a time)."""

    def __init__(self, session: PythonSession) -> None:
        self.session = session

    def run(self, call: ToolCall, cancel: CancelFlag) -> ToolResult:
        """Run the call's code; Stop (the cancel flag) interrupts it."""
        forget = cancel.when_set(self.session.stop)
        try:
            cell = self.session.run(call.arguments)
        except SandboxUnavailableError as exc:
            text = f"Python cannot run here: {exc.reason}"
            return ToolResult(call.recipient, "Python is unavailable", text, text, "refused")
        finally:
            forget()
        return _result(call, cell)


def _result(call: ToolCall, cell: CellResult) -> ToolResult:
    status = "stopped" if cell.stopped else "error" if cell.error else "done"
    took = f"{cell.seconds:.1f} s"
    summary = {
        "done": f"Ran Python · {took}",
        "error": f"Ran Python · {took} · timed out" if cell.timed_out else f"Ran Python · {took} · error",
        "stopped": f"Python stopped · {took}",
    }[status]
    shown = "\n".join(part.rstrip("\n") for part in (cell.output, cell.value or "", cell.error or "") if part)
    files = tuple(ToolFile(f.name, str(f.path), f.size) for f in cell.files)
    return ToolResult(call.recipient, summary, shown, cell.model_text, status, cell.seconds, files)
