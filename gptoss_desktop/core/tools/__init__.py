"""Tools gpt-oss calls while it thinks: the loop that runs them (loop.py) and the tools, such as
`python` (python_tool.PythonSession, run in a sandboxed kernel process). No Qt.

Nothing is imported here: the kernel imports its own modules from this package in the frozen
app, and must not pull the app's in.
"""
