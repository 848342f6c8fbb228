"""Dialogs: Preferences, conversation settings, connecting to a server, About."""
