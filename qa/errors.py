"""Errors that mean the user did something wrong: shown as one line, never a traceback."""


class UserError(Exception):
    """A mistake the user can fix (missing folder, empty question, unreachable store)."""
