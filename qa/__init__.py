"""newsqa: answers questions from a folder of news articles, citing verbatim passages."""

from qa.api import Chat, ask, get_engine, ingest, status
from qa.engine import Engine
from qa.errors import UserError
from qa.types import Answer, Source

__all__ = [
    "Answer",
    "Chat",
    "Engine",
    "Source",
    "UserError",
    "ask",
    "get_engine",
    "ingest",
    "status",
]
