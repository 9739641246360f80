"""Faults the store survives: SIGKILL mid-ingest, a damaged or read-only store, a failed write,
two ingests at once, another process rebuilding under an open chat, filters matching nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, copy_seeds

from qa import Chat
from qa.engine import Engine
from qa.errors import UserError
from qa.settings import Settings
from qa.tools.corpus import generate_texts

AZERBAIJAN = "Who is the Prosecutor General of Azerbaijan?"
NEWSQA = [sys.executable, "-m", "qa"]
# Without these capabilities root obeys file modes like any user (verified on this machine).
DROP_CAPS = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
    "--",
]


def run(*args: str, privileged: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    prefix = [] if privileged or os.geteuid() != 0 else DROP_CAPS
    return subprocess.run(
        [*prefix, *NEWSQA, *args], cwd=PROJECT, capture_output=True, text=True, **kwargs
    )


def folder_with_filler(dest: Path, n: int) -> Path:
    """The seeds plus `n` generated articles (enough chunks that a kill lands mid-ingest)."""
    copy_seeds(dest)
    for name, text in generate_texts(n, seed=7):
        (dest / name).write_text(text, encoding="utf-8")
    return dest


def chunk_ids(store: Path) -> list[str]:
    with sqlite3.connect(f"file:{store / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
        return sorted(str(r[0]) for r in db.execute("SELECT embedding_id FROM embeddings"))


def lexical_index(store: Path) -> tuple[list[str], dict[str, int], list[tuple[str, int, str]]]:
    """The store's lexical index: its chunk ids, term frequencies and postings (by name)."""
    with sqlite3.connect(f"file:{store / 'newsqa-lexical.sqlite3'}?mode=ro", uri=True) as db:
        ids = sorted(str(r[0]) for r in db.execute("SELECT chunk_id FROM chunks"))
        df = {str(t): int(n) for t, n in db.execute("SELECT term, df FROM terms")}
        postings = sorted(
            db.execute(
                "SELECT t.term, p.impact, c.chunk_id FROM postings p "
                "JOIN terms t ON t.id = p.term JOIN chunks c ON c.id = p.chunk"
            )
        )
    return ids, df, postings


def status(seeds: Path, store: Path, **kwargs: Any) -> dict[str, Any]:
    out = run("status", "--json", "--seeds", str(seeds), "--store", str(store), **kwargs)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def segment_dirs(store: Path) -> set[str]:
    return {p.name for p in store.iterdir() if p.is_dir()}


def used_segments(store: Path) -> set[str]:
    with sqlite3.connect(f"file:{store / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
        return {str(r[0]) for r in db.execute("SELECT id FROM segments WHERE scope = 'VECTOR'")}


def start_ingest(seeds: Path, store: Path) -> subprocess.Popen[str]:
    """A real `newsqa ingest` whose progress lines (stderr, not a terminal) the test reads."""
    return subprocess.Popen(
        [*NEWSQA, "ingest", "--seeds", str(seeds), "--store", str(store)],
        cwd=PROJECT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def kill_when(seeds: Path, store: Path, phase: str, after_lines: int) -> bool:
    """Start `newsqa ingest` and SIGKILL it after `after_lines` progress lines of `phase`;
    False if it finished first (the phase never came, or the kill came after its last line)."""
    proc = start_ingest(seeds, store)
    assert proc.stderr is not None
    seen = 0
    for line in proc.stderr:
        if f": {phase} " in line:
            seen += 1
            if seen >= after_lines:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    assert proc.returncode in (0, -signal.SIGKILL)
    return proc.returncode == -signal.SIGKILL


def test_sigkill_during_ingest_converges_to_a_clean_ingest(tmp_path: Path) -> None:
    seeds = folder_with_filler(tmp_path / "seeds", 200)
    clean = tmp_path / "clean"
    assert run("ingest", "--seeds", str(seeds), "--store", str(clean)).returncode == 0
    expected = chunk_ids(clean)

    store = tmp_path / "store"
    kills = [("tagging", 1), ("writing", 1), ("writing", 1), ("chunking", 1), ("writing", 1)]
    killed = 0
    for phase, lines in kills:  # every run resumes what the killed one left
        killed += kill_when(seeds, store, phase, lines)
        have = chunk_ids(store) if (store / "chroma.sqlite3").exists() else []
        if have and have != expected:  # part written: the store must say so
            assert status(seeds, store)["complete"] is False
            out = run("ask", AZERBAIJAN, "--seeds", str(seeds), "--store", str(store))
            assert out.returncode == 0 and "Traceback" not in out.stderr
            assert "newsqa: warning: the last ingest into the store did not finish" in out.stderr
    assert killed >= 3
    out = run("ingest", "--json", "--seeds", str(seeds), "--store", str(store))
    assert out.returncode == 0, out.stderr
    assert chunk_ids(store) == expected  # exactly a clean ingest's chunks: none lost, none twice
    assert lexical_index(store) == lexical_index(clean)  # and the same lexical index
    assert lexical_index(store)[0] == expected
    info = status(seeds, store)
    assert info["complete"] is True and info["articles"] == 205
    asked = run("ask", AZERBAIJAN, "--seeds", str(seeds), "--store", str(store))
    assert "Kamran Aliyev" in asked.stdout and "warning" not in asked.stderr


def test_damaged_store_names_the_fix_and_rebuild_moves_it_aside(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    store = tmp_path / "store"
    assert run("ingest", "--seeds", str(seeds), "--store", str(store)).returncode == 0
    database = store / "chroma.sqlite3"
    with database.open("r+b") as handle:  # a half-written database file
        handle.truncate(database.stat().st_size // 3)
    damaged = database.read_bytes()
    for command in (["ask", AZERBAIJAN], ["status"], ["ingest"]):
        out = run(*command, "--seeds", str(seeds), "--store", str(store))
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert out.stderr.strip().splitlines() == [
            f"newsqa: error: the store at {store} is damaged (error returned from database: "
            "(code: 11) database disk image is malformed); run `newsqa ingest --rebuild` to move "
            "it aside and build it again"
        ]
    out = run("ingest", "--rebuild", "--seeds", str(seeds), "--store", str(store))
    assert out.returncode == 0, out.stderr
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("store.damaged-")]
    assert len(aside) == 1 and f"the damaged store was moved to {aside[0]}" in out.stdout
    assert (aside[0] / "chroma.sqlite3").read_bytes() == damaged  # kept, byte for byte
    assert (
        "Kamran Aliyev"
        in run("ask", AZERBAIJAN, "--seeds", str(seeds), "--store", str(store)).stdout
    )


@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="running as root without setpriv: cannot make a folder read-only for this process",
)
def test_read_only_store_answers_and_ingest_says_it_cannot_write(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    store = tmp_path / "store"
    assert run("ingest", "--seeds", str(seeds), "--store", str(store)).returncode == 0
    before = digest(store)
    for path in [store, *store.rglob("*")]:
        path.chmod(path.stat().st_mode & 0o555)
    try:
        asked = run(
            "ask", AZERBAIJAN, "--seeds", str(seeds), "--store", str(store), privileged=False
        )
        assert asked.returncode == 0, asked.stderr
        assert "Kamran Aliyev" in asked.stdout
        info = status(seeds, store, privileged=False)
        assert info["read_only"] is True and info["chunks"] == 19 and info["articles"] == 5
        out = run("ingest", "--seeds", str(seeds), "--store", str(store), privileged=False)
        assert out.returncode == 2 and out.stderr.strip() == (
            f"newsqa: error: the store at {store} is read-only: ingest cannot write to it "
            "(asking still works)"
        )
    finally:
        for path in [store, *store.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert digest(store) == before  # nothing was written


def test_write_error_mid_ingest_is_clear_and_changes_nothing(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    engine = Engine(Settings().with_overrides(seeds=seeds, store=tmp_path / "store"))
    engine.ingest()
    before = chunk_ids(tmp_path / "store")
    for name, text in generate_texts(40, seed=3):
        (seeds / name).write_text(text, encoding="utf-8")
    (seeds / "004_cdb1a34271dd60b2.txt").unlink()  # a removal the failed run must not do either

    import qa.ingestion as ingest_module

    real_write, calls = ingest_module._write, []

    def write_until_the_disk_is_full(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_write(*args)

    ingest_module._write = write_until_the_disk_is_full  # type: ignore[assignment]
    ingest_module._EMBED_GROUP, group = 16, ingest_module._EMBED_GROUP
    try:
        with pytest.raises(UserError) as error:
            engine.ingest()
    finally:
        ingest_module._write, ingest_module._EMBED_GROUP = real_write, group
    assert len(calls) == 2  # one group landed before the failure: it was rolled back
    assert str(error.value) == (
        f"cannot write to the store at {tmp_path / 'store'}: [Errno 28] No space left on device; "
        "nothing changed"
    )
    assert chunk_ids(tmp_path / "store") == before
    info = status(seeds, tmp_path / "store")
    assert info["complete"] is True and info["articles"] == 5


def test_two_ingests_at_once_are_serialised(tmp_path: Path) -> None:
    seeds = folder_with_filler(tmp_path / "seeds", 60)
    store = tmp_path / "store"
    command = [*NEWSQA, "ingest", "--json", "--seeds", str(seeds), "--store", str(store)]
    procs = [
        subprocess.Popen(
            command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    embedded = sorted(r["chunks_embedded"] for r in reports)
    assert embedded[0] == 0 and embedded[1] == len(chunk_ids(store))  # never twice the work
    waited = [err for _, err in outputs if "waiting for it to finish" in err]
    assert len(waited) == 1  # the second one said it was waiting
    worker = next(err for (_, err), r in zip(outputs, reports, strict=True) if r["chunks_embedded"])
    phases = [line.split(" [")[0] for line in worker.splitlines() if line.startswith("ingest: ")]
    assert list(dict.fromkeys(phases)) == [  # off a terminal: a line per phase, in order
        "ingest: reading",
        "ingest: chunking",
        "ingest: tagging",
        "ingest: embedding",
        "ingest: writing",
    ]


def test_open_chat_follows_a_rebuild_in_another_process(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    store = tmp_path / "store"
    chat = Chat(engine=Engine(Settings().with_overrides(seeds=seeds, store=store)))
    chat.engine.ingest()
    assert "Kamran Aliyev" in chat.ask(AZERBAIJAN).text
    (seeds / "lighthouse.txt").write_text(
        "Harbour board names new lighthouse keeper\n\n"
        "The harbour board of Port Quillan appointed Maren Voss as keeper of the North Mole "
        "lighthouse on Monday. Voss, 41, previously ran the pilot station.\n",
        encoding="utf-8",
    )
    for _ in range(2):  # two rebuilds: neither leaves an orphan segment folder behind
        out = run("ingest", "--rebuild", "--seeds", str(seeds), "--store", str(store))
        assert out.returncode == 0, out.stderr
        assert segment_dirs(store) == used_segments(store)
    answer = chat.ask("Who was appointed keeper of the North Mole lighthouse?")
    assert answer.found and "Maren Voss" in answer.text and not answer.warnings
    assert answer.sources[0].file == "lighthouse.txt"
    assert "Kamran Aliyev" in chat.ask(AZERBAIJAN).text


def test_open_chat_warns_while_another_process_ingests(tmp_path: Path) -> None:
    seeds = folder_with_filler(tmp_path / "seeds", 240)  # several write groups
    store = tmp_path / "store"
    engine = Engine(Settings().with_overrides(seeds=copy_seeds(tmp_path / "five"), store=store))
    engine.ingest()
    proc = start_ingest(seeds, store)
    assert proc.stderr is not None
    warnings: list[tuple[str, ...]] = []
    for line in proc.stderr:
        if ": writing " in line:
            warnings.append(engine.ask(AZERBAIJAN).warnings)
            break
    proc.communicate(timeout=600)
    assert warnings == [("an ingest is writing to the store right now: answers may miss articles",)]
    assert engine.ask(AZERBAIJAN).warnings == ()


def test_filters_matching_nothing_are_a_clear_error(seeded: Engine) -> None:
    from qa.filters import Filters

    with pytest.raises(UserError, match=r"^no article in the store matches --source nothere\.txt$"):
        seeded.ask(AZERBAIJAN, filters=Filters.build(sources="nothere.txt"))
    with pytest.raises(
        UserError,
        match=r"^no article in the store matches --since 2030-01-01 --until 2030-12-31$",
    ):
        seeded.ask(AZERBAIJAN, filters=Filters.build(since="2030", until="2030"))
    assert seeded.ask(AZERBAIJAN, filters=Filters.build(sources="000_9f4a2981cc9edab8.txt")).found


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    from qa.store_lock import ingest_lock, ingest_running

    lock = tmp_path / "store" / ".newsqa-ingest.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from qa.store_lock import ingest_lock\n"
            f"with ingest_lock(Path({str(lock)!r})):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert ingest_running(lock)
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    acquired = threading.Event()

    def take() -> None:
        with ingest_lock(lock):
            acquired.set()

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    taker.join(30)
    assert acquired.is_set()  # the kernel released the dead holder's lock: no stale lock
    assert not ingest_running(lock)


def test_status_reads_the_stored_summary_not_every_row(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.store import Store

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("status read every row")

    monkeypatch.setattr(Store, "rows", no_scan)
    info = seeded.status()
    assert (info["articles"], info["chunks"], info["complete"]) == (5, 19, True)
    assert info["generation"] >= 1 and info["read_only"] is False
