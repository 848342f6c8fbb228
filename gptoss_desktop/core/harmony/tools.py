"""The tools a harmony prompt declares: builtin namespaces (browser, python) and developer functions.

The builtin texts are openai-harmony's own (`ToolNamespaceConfig::browser()` and `::python()` in
its `src/chat.rs`), word for word: gpt-oss was trained on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

BUILTIN_TOOLS: tuple[str, ...] = ("browser", "python")
FUNCTIONS = "functions"

BROWSER_DESCRIPTION = (
    "Tool for browsing.\n"
    "The `cursor` appears in brackets before each browsing display: `[{cursor}]`.\n"
    "Cite information from the tool using the following format:\n"
    "`【{cursor}†L{line_start}(-L{line_end})?】`, for example: `【6†L9-L11】` or `【8†L3】`.\n"
    "Do not quote more than 10 words directly from the tool output.\n"
    "sources=web (default: web)"
)

PYTHON_DESCRIPTION = (
    "Use this tool to execute Python code in your chain of thought. The code will not be shown to the user. "
    "This tool should be used for internal reasoning, but not for code that is intended to be visible to the "
    "user (e.g. when creating plots, tables, or files).\n\n"
    "When you send a message containing Python code to python, it will be executed in a stateful Jupyter "
    "notebook environment. python will respond with the output of the execution or time out after 120.0 "
    "seconds. The drive at '/mnt/data' can be used to save and persist user files. Internet access for this "
    "session is UNKNOWN. Depends on the cluster."
)


@dataclass(frozen=True)
class Function:
    """One callable: a name, what it does, and its parameters as a JSON Schema object (None: no parameters).

    The schema is kept as given (key order matters: properties are rendered in it) and must not be
    changed afterwards; it takes no part in hashing, so conversations stay usable as dict keys.
    """

    name: str
    description: str = ""
    parameters: Mapping[str, object] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() or c in "<>" for c in self.name):
            raise ValueError(f"a tool name needs letters and no spaces, not {self.name!r}")


@dataclass(frozen=True)
class ToolNamespace:
    """A group of tools under one name: `## {name}` in a `# Tools` section.

    A namespace without functions (python) is called by its own name; one with functions
    (browser, functions) is called as `{namespace}.{function}`.
    """

    name: str
    description: str | None = None
    functions: tuple[Function, ...] = ()

    def recipients(self) -> frozenset[str]:
        """The names a call to this namespace is addressed to (`to=...` in a header)."""
        if not self.functions:
            return frozenset({self.name})
        return frozenset(f"{self.name}.{function.name}" for function in self.functions)


BROWSER = ToolNamespace(
    "browser",
    BROWSER_DESCRIPTION,
    (
        Function(
            "search",
            "Searches for information related to `query` and displays `topn` results.",
            {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "topn": {"type": "number", "default": 10},
                    "source": {"type": "string"},
                },
                "required": ["query"],
            },
        ),
        Function(
            "open",
            "Opens the link `id` from the page indicated by `cursor` starting at line number `loc`, showing "
            "`num_lines` lines.\n"
            "Valid link ids are displayed with the formatting: `【{id}†.*】`.\n"
            "If `cursor` is not provided, the most recent page is implied.\n"
            "If `id` is a string, it is treated as a fully qualified URL associated with `source`.\n"
            "If `loc` is not provided, the viewport will be positioned at the beginning of the document or "
            "centered on the most relevant passage, if available.\n"
            "Use this function without `id` to scroll to a new location of an opened page.",
            {
                "type": "object",
                "properties": {
                    "id": {"type": ["number", "string"], "default": -1},
                    "cursor": {"type": "number", "default": -1},
                    "loc": {"type": "number", "default": -1},
                    "num_lines": {"type": "number", "default": -1},
                    "view_source": {"type": "boolean", "default": False},
                    "source": {"type": "string"},
                },
            },
        ),
        Function(
            "find",
            "Finds exact matches of `pattern` in the current page, or the page given by `cursor`.",
            {
                "type": "object",
                "properties": {
                    "pattern": {"type": "string"},
                    "cursor": {"type": "number", "default": -1},
                },
                "required": ["pattern"],
            },
        ),
    ),
)

PYTHON = ToolNamespace("python", PYTHON_DESCRIPTION)


def browser_tool(sources: str | None = None) -> ToolNamespace:
    """The browser as trained; `sources` replaces the last line (`sources=web (default: web)`) with
    `sources={sources}`, as OpenAI's reference browser does for its own backends."""
    if sources is None:
        return BROWSER
    lines = BROWSER_DESCRIPTION.split("\n")
    return ToolNamespace("browser", "\n".join([*lines[:-1], f"sources={sources}"]), BROWSER.functions)


def builtin_tool(name: str) -> ToolNamespace:
    """`browser` or `python` with the reference text; ValueError for any other name."""
    if name == "browser":
        return BROWSER
    if name == "python":
        return PYTHON
    raise ValueError(f"unknown builtin tool {name!r}: gpt-oss knows {' and '.join(BUILTIN_TOOLS)}")


def recipients(tools: Iterable[ToolNamespace], functions: Iterable[Function]) -> frozenset[str]:
    """Every `to=` name the declared tools answer to: `python`, `browser.search`, `functions.get_weather`..."""
    names: set[str] = set()
    for namespace in tools:
        names |= namespace.recipients()
    names |= {f"{FUNCTIONS}.{function.name}" for function in functions}
    return frozenset(names)
