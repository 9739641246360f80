"""A fake LLM server on 127.0.0.1 (a free port) speaking Ollama's `/api/chat` (NDJSON streaming
and one JSON reply) and OpenAI's `/v1/chat/completions` (SSE `data:` chunks ending in
`data: [DONE]`, and one JSON reply). It records every request; only the wire is fake."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """All message contents of the request, joined."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


@dataclass
class FakeLLM:
    """What the server answers: `reply` (text, or a function of the request body), split into
    tokens for streaming; `delay` seconds before answering; `garbage` for a non-JSON reply."""

    reply: Reply = "The articles don't say."
    delay: float = 0.0
    garbage: bool = False
    error: tuple[int, str] | None = None  # (status, body) to answer every request with
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    @property
    def ollama(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def text_for(self, body: dict[str, Any]) -> str:
        return self.reply(body) if callable(self.reply) else self.reply


def tokens(text: str) -> list[str]:
    """The reply in word-sized pieces, spaces kept: what a model streams."""
    return re.findall(r"\S+\s*|\s+", text) or [""]


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            fake.requests.append(Request(self.path, dict(self.headers.items()), body))
            if fake.delay:
                time.sleep(fake.delay)
            if fake.error:
                return self._send(fake.error[0], "application/json", fake.error[1].encode())
            if fake.garbage:
                return self._send(200, "application/json", b"\x00\x9f<html>not json at all")
            text = fake.text_for(body)
            if self.path.rstrip("/") == "/api/chat":
                return self._ollama(body, text)
            if self.path.rstrip("/") == "/v1/chat/completions":
                return self._openai(body, text)
            self._send(404, "application/json", b'{"error": "not found"}')

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timed out)
                pass

        def _chunked(self, kind: str, pieces: Iterator[bytes]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for piece in pieces:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading
                pass

        def _ollama(self, body: dict[str, Any], text: str) -> None:
            model = body.get("model", "fake")
            stamp = "2026-12-02T00:00:00Z"

            def line(content: str, done: bool) -> bytes:
                message = {"role": "assistant", "content": content}
                row: dict[str, Any] = {"model": model, "created_at": stamp, "message": message}
                row["done"] = done
                if done:
                    row |= {"done_reason": "stop", "eval_count": 3, "prompt_eval_count": 5}
                return (json.dumps(row) + "\n").encode()

            if body.get("stream", True):
                pieces = [line(t, False) for t in tokens(text)] + [line("", True)]
                return self._chunked("application/x-ndjson", iter(pieces))
            self._send(200, "application/json", line(text, True))

        def _openai(self, body: dict[str, Any], text: str) -> None:
            model = body.get("model", "fake")
            base = {"id": "chatcmpl-fake", "created": 1, "model": model}
            if body.get("stream"):

                def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
                    row = base | {
                        "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                    return f"data: {json.dumps(row)}\n\n".encode()

                pieces = [chunk({"role": "assistant", "content": ""}, None)]
                pieces += [chunk({"content": t}, None) for t in tokens(text)]
                pieces += [chunk({}, "stop"), b"data: [DONE]\n\n"]
                return self._chunked("text/event-stream", iter(pieces))
            reply = base | {
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            }
            self._send(200, "application/json", json.dumps(reply).encode())

    return Handler


@contextmanager
def fake_llm(**options: Any) -> Iterator[FakeLLM]:
    """A running fake server (stopped on exit); `options` are FakeLLM's fields."""
    fake = FakeLLM(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    """A port nothing listens on (for a backend that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
