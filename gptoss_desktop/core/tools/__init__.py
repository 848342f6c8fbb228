"""Tools the model calls: `python` (python_tool.PythonSession), run in a sandboxed kernel process.

Nothing is imported here: the kernel imports its own modules from this package in the frozen
app, and must not pull the app's in.
"""
