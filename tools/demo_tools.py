"""A conversation whose answer ran Python, for screenshots: the words written by hand, the code run for real.

The two cells run in the app's sandbox, in the conversation's own working folder, through the same
PythonCalls the tool loop uses, so the steps' summaries, output and files are what the app produces.
"""

from __future__ import annotations

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.events import ToolCall
from gptoss_desktop.core.history.store import MessageStats, Store
from gptoss_desktop.core.history.tool_steps import ToolStep
from gptoss_desktop.core.tools.python_calls import PythonCalls
from gptoss_desktop.core.tools.python_tool import PythonSession
from gptoss_desktop.core.tools.workspace import conversation_folder

QUESTION = "If I put 10,000 € away at 3.5 % a year, what do I have after 15 years, and when does it pass 15,000?"
BEFORE = "Compound growth, yearly. I will compute it exactly with Python rather than by hand. "
GROWTH = """principal, rate = 10_000, 0.035
balances = [principal * (1 + rate) ** year for year in range(16)]
print(f"after 15 years: {balances[15]:,.2f}")
next(year for year, balance in enumerate(balances) if balance > 15_000)"""
BETWEEN = "It passes 15,000 in year 12. A table of every year would help; write it to a file. "
TABLE = """import csv
with open("growth.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["year", "balance"])
    writer.writerows((year, round(balance, 2)) for year, balance in enumerate(balances))
print(f"{len(balances)} rows written")"""
AFTER = "Both numbers check out. Answer with them and point to the file."
ANSWER = """After 15 years at 3.5 % a year, compounded yearly, 10,000 € grows to **16,753.49 €**.

It first passes 15,000 € after **12 years** (15,110.69 €). Every year's balance is in `growth.csv`."""


def write_tool_demo(store: Store) -> str:
    """Store the conversation (its cells run for real); its uid."""
    conversation = store.create_conversation("Savings at 3.5 % for 15 years")
    record = store.conversation(conversation)
    assert record is not None
    store.add_message(conversation, "user", QUESTION)
    answer = store.add_message(conversation, "assistant", state="streaming", effort="medium", model="gpt-oss-20b")
    steps = []
    with PythonSession(conversation_folder(record.uid)) as session:
        calls = PythonCalls(session)
        for at, code in ((len(BEFORE), GROWTH), (len(BEFORE) + len(BETWEEN), TABLE)):
            result = calls.run(ToolCall("python", "analysis", "code", code, declared=True), CancelFlag())
            shown = (result.summary, result.output, result.model_text, result.status, result.seconds, result.files)
            steps.append(ToolStep("python", code, at, *shown))
    stats = MessageStats(310, 190, 120, 6.4, 3.1)
    store.update_message(answer, content=ANSWER, reasoning=BEFORE + BETWEEN + AFTER, state="complete", stats=stats)
    store.set_tool_steps(answer, steps)
    return record.uid
