"""Shared fixtures: outbound network blocked (loopback allowed), a real store from the seeds."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    elif isinstance(address, (str, bytes)):
        return True  # AF_UNIX socket path
    else:
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def block_network() -> Any:
    """Any connection to a non-loopback address fails loudly, as it would on an offline machine."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise OSError(f"network blocked in tests: connect to {address!r}")
        return real_connect(self, address)

    def guarded_ex(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise OSError(f"network blocked in tests: connect to {address!r}")
        return real_connect_ex(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


def newsqa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m qa ARGS…` as a real subprocess from the project folder."""
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def copy_seeds(dest: Path) -> Path:
    """A private copy of the five seed articles (tests may edit or delete them)."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copyfile(path, dest / path.name)
    return dest


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An engine over a real Chroma store in a temp folder, ingested from the seeds once."""
    from qa import get_engine

    base = tmp_path_factory.mktemp("seeded")
    seeds = copy_seeds(base / "seeds")
    engine = get_engine(store=base / "store", seeds=seeds)
    engine.ingest()
    return engine
