"""The store's ingest state: a generation that every finished or started ingest bumps, and
whether the last ingest completed. Open sessions compare it per question to notice another
process's writes; `status` reads its counts instead of every row's metadata.

A folder store keeps it in a small JSON file beside Chroma's files (written atomically, read in
microseconds); a server store keeps it in the collection's metadata, which every client sees.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

STATE_FILE = "newsqa-state.json"
_PREFIX = "newsqa_"  # collection-metadata keys of the server form


@dataclass(frozen=True)
class StoreState:
    """`complete` is False from the start of an ingest that changes rows until it finishes."""

    generation: int = 0
    complete: bool = True
    articles: int = 0
    chunks: int = 0

    def started(self) -> StoreState:
        return replace(self, generation=self.generation + 1, complete=False)

    def finished(self, articles: int, chunks: int) -> StoreState:
        return replace(self, complete=True, articles=articles, chunks=chunks)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoreState:
        def number(key: str) -> int:
            value = data.get(key, 0)
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        return cls(
            generation=number("generation"),
            complete=data.get("complete", True) is not False,
            articles=number("articles"),
            chunks=number("chunks"),
        )


def read_file_state(folder: Path) -> StoreState | None:
    """The state beside a folder store; None for a store written before states existed."""
    try:
        data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):  # a torn or foreign file: assume the worst, ingest will fix it
        return StoreState(complete=False)
    return StoreState.from_dict(data) if isinstance(data, dict) else StoreState(complete=False)


def write_file_state(folder: Path, state: StoreState) -> None:
    """Replace the state file atomically: a reader sees the old state or the new, never half."""
    handle, temp = tempfile.mkstemp(prefix=".newsqa-state-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(state), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, folder / STATE_FILE)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def state_from_metadata(metadata: dict[str, Any] | None) -> StoreState | None:
    """The state kept in a server collection's metadata, if any."""
    found = {k[len(_PREFIX) :]: v for k, v in (metadata or {}).items() if k.startswith(_PREFIX)}
    return StoreState.from_dict(found) if found else None


def state_metadata(state: StoreState) -> dict[str, Any]:
    return {_PREFIX + key: value for key, value in asdict(state).items()}
