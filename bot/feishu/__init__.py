"""Feishu (飞书, Lark): event callbacks, the open API for messages, and interactive cards."""
