"""A loopback OpenAI-compatible chat server with scripted behaviour, for tests and benchmarks.

It binds to 127.0.0.1 only.  What it does is chosen by a marker in the last user message:
``[[429-ONCE]]`` answers 429 the first time, then succeeds; ``[[500]]`` always answers 500;
``[[HANG]]`` sleeps longer than any client timeout; ``[[GARBAGE]]`` answers 200 with a non-JSON body;
``[[ECHO-KEY-500]]`` answers 500 with an error text that quotes the caller's key (as some providers do);
``[[FLIP-ON-SEED-1]]`` answers "No" instead of ``answer`` when the request's seed is 1 (a sampling judge asked again);
anything else succeeds with ``answer`` after ``latency`` seconds (or 500 for everything: ``fail_all``);
``seed_answers`` ({seed: [answer, ...]}) answers a request with that seed by the list, in turn (a sampling
judge's second pass that agrees on some inputs and not on others).
Every request's Authorization header is kept in ``auth_headers`` for tests to check.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_ANSWER = "Content A: 2\nContent B: 1\nContent C: N/A"


class FakeOpenAIServer:
    def __init__(self, *, latency: float = 0.0, answer: str = DEFAULT_ANSWER, hang_seconds: float = 30.0,
                 fail_all: bool = False, seed_answers: dict[int, list[str]] | None = None):
        self.latency, self.answer, self.hang_seconds, self.fail_all = latency, answer, hang_seconds, fail_all
        self.seed_answers = seed_answers or {}
        self.seeds: Counter = Counter()            # seed -> requests received
        self.requests: Counter = Counter()         # marker -> requests received
        self.auth_headers: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, content_type="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                text = payload.get("messages", [{}])[-1].get("content", "")
                marker = next((m for m in ("[[429-ONCE]]", "[[500]]", "[[HANG]]", "[[GARBAGE]]", "[[ECHO-KEY-500]]")
                               if m in text), "ok")
                with server._lock:
                    server.requests[marker] += 1
                    n = server.requests[marker]
                    server.seeds[payload.get("seed")] += 1
                    by_seed = server.seeds[payload.get("seed")]
                    server.auth_headers.append(self.headers.get("Authorization", ""))
                if marker == "[[429-ONCE]]" and n == 1:
                    return self._send(429, json.dumps({"error": {"message": "rate limited", "type": "rate_limit"}}).encode())
                if marker == "[[ECHO-KEY-500]]":
                    key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    message = f"Invalid key {key} for this project; api_key=sk-other-leaked-0123456789 rejected"
                    return self._send(500, json.dumps({"error": {"message": message}}).encode())
                if marker == "[[500]]" or server.fail_all:
                    return self._send(500, json.dumps({"error": {"message": "boom", "type": "server_error"}}).encode())
                if marker == "[[HANG]]":
                    time.sleep(server.hang_seconds)
                    return
                if marker == "[[GARBAGE]]":
                    return self._send(200, b"<html>this is not json", "application/json")
                time.sleep(server.latency)
                answer = "No" if "[[FLIP-ON-SEED-1]]" in text and payload.get("seed") == 1 else server.answer
                if turns := server.seed_answers.get(payload.get("seed")):
                    answer = turns[(by_seed - 1) % len(turns)]
                body = {"id": "fake-1", "object": "chat.completion", "created": 0, "model": payload.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": answer}}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22}}
                return self._send(200, json.dumps(body).encode())

        return Handler


def main() -> None:
    """Run the server on its own (for benchmarks that need it outside the client's process)."""
    import argparse

    ap = argparse.ArgumentParser(description="loopback OpenAI-compatible fake server")
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args()
    with FakeOpenAIServer(latency=args.latency) as server:
        print(server.api_base, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
