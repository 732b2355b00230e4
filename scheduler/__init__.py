"""Scheduled jobs (stall scans, brief prompts, the Monday list, the Friday standup)."""
