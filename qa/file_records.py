"""What ingest remembers of each article file it read, so that an unchanged file is not read again.

A record holds the file's stat identity (size, mtime, ctime, inode) when ingest last read it and
the content hash it read. A file whose stat still matches is taken to hold that content. Writing
a file changes its mtime and ctime (setting the mtime back with `touch -d` or `os.utime` changes
the ctime, which nothing but the kernel sets), so an edit shows even when it keeps the size. The
blind spots: a filesystem without a real ctime (Windows reports the creation time) on which a
file is edited keeping its size and its mtime is restored; and a file edited within the same
timestamp tick as ingest looked at it, which is why a record whose mtime was within `RACY_NS` of
the moment of the stat is not trusted (the file is read again the next time, like Git's "racily
clean" entries).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import NamedTuple

# Files modified this close to the moment ingest looked at them might change again within the same
# timestamp tick (coarse kernel clocks, FAT's 2 s mtimes): their records are not trusted.
RACY_NS = 2_000_000_000


class FileStat(NamedTuple):
    """A regular file's identity as `stat` sees it, and when it was looked at."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    checked_ns: int


class FileRecord(NamedTuple):
    """A file as ingest last read it: its stat then, its content hash, and the decoding warning."""

    file: str
    stat: FileStat
    content_hash: str
    warning: str | None


def stat_file(path: Path) -> FileStat | None:
    """The stat of the regular file at `path` (symlinks followed); None if there is none."""
    checked = time.time_ns()  # before the stat: a write after it shows in a later mtime
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return FileStat(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, checked)


def unchanged(record: FileRecord | None, now: FileStat | None) -> bool:
    """True if `now` is the very stat the record was read with, and the record is not racy."""
    if record is None or now is None:
        return False
    then = record.stat
    return then[:4] == now[:4] and then.mtime_ns < then.checked_ns - RACY_NS
