"""Widgets: windows, views, dialogs. They talk to services only, never to llama.cpp."""
