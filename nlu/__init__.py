"""Parsing a rep's Chinese text into an intent and customer updates: pure functions, no I/O."""
