"""One ingest at a time per store: an advisory file lock (flock) that the kernel releases when
the holder exits, even by SIGKILL, so a crashed ingest never leaves the store locked."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".newsqa-ingest.lock"


def lock_path(store_dir: Path, server: str | None, collection: str) -> Path:
    """The lock of a folder store sits in it; a server store's lock is per machine (flock cannot
    reach other machines), named after the server URL and collection."""
    if server is None:
        return store_dir / LOCK_FILE
    key = hashlib.sha256(f"{server}\n{collection}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"newsqa-ingest-{key}.lock"


@contextmanager
def ingest_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the store's ingest lock; if another process holds it, call `on_wait` and wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def ingest_running(path: Path) -> bool:
    """True if some process holds the lock now (an ingest is under way, not interrupted)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
