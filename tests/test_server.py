"""Chroma server mode against a real `chroma run` server on loopback (no mocks).

The server is the `chroma` executable chromadb installs next to the interpreter. A small
token-checking reverse proxy in front of it shows that QA_CHROMA_TOKEN reaches the server as
Chroma's token auth header.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, copy_seeds

from qa.articles import read_article_text
from qa.engine import Engine
from qa.errors import UserError
from qa.filters import Filters
from qa.lexical.contains import ContainsIndex
from qa.settings import Settings
from qa.tools.scale import free_port, heartbeat

CHROMA = Path(sys.executable).parent / "chroma"
TOKEN = "s3cret-token_42"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on a free loopback port, stopped when the module is done."""
    if not CHROMA.exists():
        pytest.fail(f"chroma executable not found at {CHROMA}")
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (path / "server.log").open("wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(path / "data"), "--host", "127.0.0.1"]
        + ["--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not heartbeat(url):
            if server.poll() is not None:
                pytest.fail(f"chroma server exited with {server.returncode}")
            if time.monotonic() > deadline:
                pytest.fail("chroma server did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


class _TokenProxy(ThreadingHTTPServer):
    """Forwards to `upstream` only requests carrying the token; records the auth headers."""

    daemon_threads = True

    def __init__(self, upstream: str, header: str, value: str) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.header, self.value = header, value
        self.seen: list[str | None] = []
        self.refused = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TokenProxy

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        presented = self.headers.get(self.server.header)
        self.server.seen.append(presented)
        if presented != self.server.value:
            self.server.refused += 1
            payload = b'{"error":"Unauthorized","message":"missing or wrong token"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        skip = {"host", "connection", "content-length", "authorization", "x-chroma-token"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward


@pytest.fixture()
def token_proxy(chroma_server: str) -> Iterator[_TokenProxy]:
    proxy = _TokenProxy(chroma_server, "Authorization", f"Bearer {TOKEN}")
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def newsqa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=300,
    )


def _server_settings(seeds: Path, url: str, collection: str, store_dir: Path) -> Settings:
    base = Settings().with_overrides(seeds=seeds, store=store_dir, chroma_url=url)
    return replace(base, collection=collection)


def test_engine_ingest_ask_reingest_status(chroma_server: str, tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    store_dir = tmp_path / "never-created"
    settings = _server_settings(seeds, chroma_server, "engine", store_dir)
    engine = Engine(settings)
    first = engine.ingest()
    assert (first.added, first.unchanged) == (5, 0)
    assert first.chunks_embedded == engine.store.count() > 5
    answer = engine.ask("Who is the Prosecutor General of Azerbaijan?")
    assert answer.found and "Kamran Aliyev" in answer.text
    source = answer.sources[0]
    assert read_article_text(seeds / source.file)[source.start : source.end] == source.quote
    # Hybrid retrieval: the lexical side is the server's own full-text index, nothing local.
    retriever = engine.retriever
    assert isinstance(retriever.lexical_index, ContainsIndex)
    lexical = retriever.lexical("bulbuloglu", 3, Filters())
    found = engine.store.collection.get(ids=[lexical[0][0]], include=["documents"])
    assert "Bulbuloglu" in found["documents"][0]

    again = Engine(settings).ingest()  # a fresh engine: state comes from the server only
    assert (again.unchanged, again.chunks_embedded, again.chunks_deleted) == (5, 0, 0)
    status = Engine(settings).status()
    assert status["mode"] == "server" and status["store"] == chroma_server
    assert (status["articles"], status["chunks"]) == (5, first.chunks_embedded)
    assert not store_dir.exists()  # nothing was written locally
    metas = [m for _, m, _ in engine.store.rows(include=["metadatas"])]
    assert {m["file"] for m in metas} == {p.name for p in seeds.glob("*.txt")}
    assert all(len(str(m["doc_id"])) == 16 and "_node_content" not in m for m in metas)


def test_cli_against_server(chroma_server: str, tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    env = {"QA_COLLECTION": "cli", "QA_STORE_DIR": str(tmp_path / "local-store")}
    common = ["--seeds", str(seeds), "--chroma-url", chroma_server]
    first = newsqa("ingest", "--json", *common, env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["added"] == 5 and report["chunks_embedded"] > 5
    second = newsqa("ingest", "--json", *common, env=env)
    assert json.loads(second.stdout)["chunks_embedded"] == 0
    ask = newsqa("ask", "--json", "Who is Azerbaijan's Minister of Defense?", *common, env=env)
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)
    assert data["found"] is True and "Zakir Hasanov" in data["text"]
    status = newsqa("status", "--json", *common, env=env)
    info = json.loads(status.stdout)
    assert info["mode"] == "server" and info["chunks"] == report["chunks_embedded"]
    # QA_CHROMA_URL works like --chroma-url
    via_env = newsqa(
        "status", "--json", "--seeds", str(seeds), env={**env, "QA_CHROMA_URL": chroma_server}
    )
    assert json.loads(via_env.stdout)["chunks"] == report["chunks_embedded"]
    assert not (tmp_path / "local-store").exists()


def test_token_is_sent_as_bearer_header(token_proxy: _TokenProxy, tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    env = {"QA_COLLECTION": "token", "QA_CHROMA_TOKEN": TOKEN}
    common = ["--seeds", str(seeds), "--chroma-url", token_proxy.url]
    ingest = newsqa("ingest", "--json", *common, env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["added"] == 5
    question = "Who attended the meeting as Azerbaijani ambassador to Moscow?"
    ask = newsqa("ask", "--json", question, *common, env=env)
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)
    assert data["found"] is True and "Polad Bulbuloglu" in data["text"]
    assert [s["text"] for s in data["spans"]] == ["Bulbuloglu"]
    assert data["sources"][0]["file"] == "001_0a09935dfe10dade.txt"
    assert token_proxy.refused == 0 and token_proxy.seen
    assert set(token_proxy.seen) == {f"Bearer {TOKEN}"}

    without = newsqa("status", *common, env={"QA_COLLECTION": "token"})
    assert without.returncode != 0 and token_proxy.refused > 0
    lines = without.stderr.strip().splitlines()
    assert len(lines) == 1 and token_proxy.url in lines[0] and "Traceback" not in without.stderr


def test_token_as_x_chroma_token(chroma_server: str, tmp_path: Path) -> None:
    proxy = _TokenProxy(chroma_server, "X-Chroma-Token", TOKEN)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        env = {
            "QA_COLLECTION": "xtoken",
            "QA_CHROMA_TOKEN": TOKEN,
            "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "X-Chroma-Token",
        }
        seeds = copy_seeds(tmp_path / "seeds")
        out = newsqa("status", "--json", "--seeds", str(seeds), "--chroma-url", proxy.url, env=env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["chunks"] == 0
        assert proxy.refused == 0 and set(proxy.seen) == {TOKEN}
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize("command", ["status", "ingest", "ask"])
def test_server_down_is_one_clear_line(command: str, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    args = [command] + (["Who is Krasnov?"] if command == "ask" else [])
    out = newsqa(*args, "--seeds", str(copy_seeds(tmp_path / "seeds")), "--chroma-url", url)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert url in lines[0] and lines[0].startswith("newsqa: error:")
    assert "Traceback" not in out.stderr and out.stdout == ""


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://127.0.0.1:8000", "http://:8000"])
def test_malformed_url_is_a_user_error(url: str, tmp_path: Path) -> None:
    settings = Settings().with_overrides(seeds=tmp_path, chroma_url=url)
    with pytest.raises(UserError, match="must look like http://host:port"):
        _ = Engine(settings).store


def test_server_lost_mid_session_is_a_user_error(tmp_path: Path) -> None:
    """A server that goes away after the store was opened gives an error naming the URL."""
    path = tmp_path / "short-lived"
    port = free_port()
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not heartbeat(url):
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        engine = Engine(Settings().with_overrides(seeds=copy_seeds(tmp_path / "s"), chroma_url=url))
        assert engine.store.count() == 0
    finally:
        server.terminate()
        server.wait(timeout=20)
    with pytest.raises(UserError, match=f"lost the connection to the Chroma server at {url}"):
        engine.store.count()


def _start_server(path: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.monotonic() + 60
    while not heartbeat(f"http://127.0.0.1:{port}"):
        assert server.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    return server


def test_session_recovers_when_the_server_returns(tmp_path: Path) -> None:
    """Server gone mid-session: one clear error per question; back: the same engine answers."""
    path, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start_server(path, port)
    try:
        engine = Engine(Settings().with_overrides(seeds=copy_seeds(tmp_path / "s"), chroma_url=url))
        engine.ingest()
        first = engine.ask("Who is the Prosecutor General of Azerbaijan?")
        assert "Kamran Aliyev" in first.text
    finally:
        server.terminate()
        server.wait(timeout=20)
    for _ in range(2):
        with pytest.raises(
            UserError, match=f"^(lost the connection to|cannot reach) the Chroma server at {url}"
        ):
            engine.ask("Who is the Prosecutor General of Azerbaijan?")
    server = _start_server(path, port)
    try:
        again = engine.ask("Who is the Prosecutor General of Azerbaijan?")
        assert again.text == first.text and again.sources == first.sources
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_tui_answers_through_the_server(chroma_server: str, tmp_path: Path) -> None:
    """The chat app prepares the store and answers a question, all through the server."""
    import asyncio

    from tui.app import create_app

    seeds = copy_seeds(tmp_path / "seeds")
    engine = Engine(_server_settings(seeds, chroma_server, "tui", tmp_path / "never-created"))
    app = create_app(engine)
    question = "When did the three leaders sign the second statement?"
    texts: list[str] = []

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            box = app.screen.query_one("#question")
            box.value = question  # type: ignore[attr-defined]
            await pilot.press("enter")
            deadline = time.monotonic() + 120
            while app.current_answer is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
            if app.current_answer is not None:
                texts.append(app.current_answer.text)
                texts.extend(s.text for s in app.current_answer.spans)

    asyncio.run(run())
    assert texts and "signed the second statement on January 11" in texts[0]
    assert texts[1:] == ["January 11"]  # the answer span the chat shows in bold
    assert engine.store.count() > 5 and not (tmp_path / "never-created").exists()


@pytest.mark.filterwarnings("ignore:legacy embedding function config:DeprecationWarning")
def test_hnsw_settings_for_recall(chroma_server: str, tmp_path: Path) -> None:
    """New collections (local or server) get the high-recall HNSW settings; an old local store
    made with Chroma's defaults gets its ef_search raised and sync threshold lowered when opened."""
    import chromadb

    from qa.store import EF_SEARCH, SYNC_THRESHOLD, _chroma_settings, open_store, reset_client_cache

    for settings in (
        Settings().with_overrides(store=tmp_path / "local"),
        _server_settings(tmp_path, chroma_server, "hnsw", tmp_path / "unused"),
    ):
        hnsw = open_store(settings).collection.configuration["hnsw"]
        assert (hnsw["space"], hnsw["ef_search"]) == ("cosine", EF_SEARCH)
        assert (hnsw["max_neighbors"], hnsw["ef_construction"]) == (32, 200)
        assert hnsw["sync_threshold"] == SYNC_THRESHOLD  # a cold open replays < 100 rows

    old = tmp_path / "old"
    client = chromadb.PersistentClient(path=str(old), settings=_chroma_settings())
    client.get_or_create_collection("newsqa", embedding_function=None)
    del client
    reset_client_cache()
    store = open_store(Settings().with_overrides(store=old))
    hnsw = store.collection.configuration["hnsw"]
    assert (hnsw["ef_search"], hnsw["sync_threshold"]) == (EF_SEARCH, SYNC_THRESHOLD)


NEW_ARTICLE = """Harbour council names Quintavius Morrow as its new chairman

March 3, 2022

The Port Elvary harbour council on Thursday named Quintavius Morrow its new chairman. The council
said the harbour handled 4,817 ships last year, a record.
"""


def test_a_client_that_never_ingested_answers_from_the_server(
    chroma_server: str, tmp_path: Path
) -> None:
    """Client A ingests, then adds an article; client B, a separate process with an empty local
    folder, answers from that article at once, through hybrid and through lexical-only search."""
    seeds = copy_seeds(tmp_path / "seeds")
    settings = _server_settings(seeds, chroma_server, "second-client", tmp_path / "a-store")
    writer = Engine(settings)
    writer.ingest()
    (seeds / "harbour.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert writer.ingest().added == 1
    empty = tmp_path / "b-store"
    env = {"QA_COLLECTION": "second-client", "QA_STORE_DIR": str(empty)}
    common = ["--seeds", str(tmp_path / "no-seeds-here"), "--chroma-url", chroma_server]
    out = newsqa(
        "ask", "--json", "Who is the new chairman of the harbour council?", *common, env=env
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["found"] and "Quintavius Morrow" in data["text"]
    assert data["sources"][0]["file"] == "harbour.txt"
    assert not empty.exists()  # B wrote nothing locally
    # Lexical-only retrieval (no dense side) finds a rare name and a number on the server.
    reader_b = Engine(replace(settings, store_dir=empty), mode="bm25")
    for query in ("quintavius", "4,817 ships"):
        hits = reader_b.retriever.retrieve(query, reader_b.retriever.embed_query(query), 3)
        assert hits and hits[0].meta["file"] == "harbour.txt", query
    answer = reader_b.ask("How many ships did the harbour handle last year?")
    assert answer.found and "4,817" in answer.text
