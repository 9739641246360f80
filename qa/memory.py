"""Returning freed heap memory to the operating system."""

from __future__ import annotations

import ctypes


def release_free_memory() -> None:
    """Ask glibc to return freed heap pages to the OS (a no-op where there is no glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass
