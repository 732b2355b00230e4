"""Conversations, one module (and one router) each, assembled by ``build_router``."""

from __future__ import annotations

from handlers import access, fallback, help
from handlers.routing import Router


def build_router() -> Router:
    """The one place the order of routers is decided: who-is-it first, fallback last."""
    return Router("root").include(access.router, help.router, fallback.router)
