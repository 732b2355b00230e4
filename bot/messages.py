"""The neutral message types, for adapters (defined in ``handlers.messages``)."""

from handlers.messages import Button, Incoming, Reply

__all__ = ["Button", "Incoming", "Reply"]
