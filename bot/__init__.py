"""The application: configuration, CLI, composition root, inbox/outbox and platform adapters."""
