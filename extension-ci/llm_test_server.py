#!/usr/bin/env python3
"""A scripted LLM server for the annotation tests: a real HTTP server on 127.0.0.1 that
speaks the OpenAI-compatible chat-completions API (POST /v1/chat/completions) and the
Anthropic Messages API (POST /v1/messages).

    python llm_test_server.py --record requests.jsonl [--port 0] [--latency-ms 0]

Prints `PORT <n>` on its first line, then serves until killed (or --max-seconds).

Every API request is appended to the --record JSONL file: time, path, body, the columns
asked for, whether a key header arrived and matched $LLM_TEST_EXPECTED_KEY ("ok",
"wrong", "missing"; the key itself is never written), and the action taken.

Control endpoints (JSON bodies):
  POST /_control {"latency_ms": 200, "script": ["429", "500"], "default": "ok", "retry_after": "1"}
      script: actions for the next requests, in order; then `default` for the rest.
      actions: ok | 429 (with Retry-After) | 500 | malformed (valid envelope, invalid
      answer JSON) | badenvelope (body is not JSON) | truncated (Content-Length larger
      than the body, then close) | hang (no answer for 30 s, or until the client leaves)
      | echo_key (401 whose body quotes the key header, to test scrubbing)
  POST /_reset   clears the script, counters and in-flight peak (the record file stays)
  GET  /_stats   {"requests": n, "inflight": n, "max_inflight": n, "cancelled": n}
"""
import argparse, json, os, select, socket, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"latency_ms": 0, "script": [], "default": "ok", "retry_after": "1",
         "requests": 0, "inflight": 0, "max_inflight": 0, "cancelled": 0}
RECORD = None


def columns_of(body):
    """Column names listed after the COLUMNS: line of the first user message."""
    for m in body.get("messages") or []:
        content = m.get("content")
        if m.get("role") == "user" and isinstance(content, str) and "COLUMNS:" in content:
            names = []
            for line in content.split("COLUMNS:", 1)[1].splitlines():
                line = line.strip()
                if line.startswith("{"):
                    try:
                        names.append(json.loads(line)["name"])
                    except Exception:
                        pass
            return names
    return []


def answer_for(names):
    return {"columns": [{
        "column_name": n,
        "semantic_role": "measure" if "amount" in n else "attribute",
        "entity_type": "scripted_entity",
        "business_term": n.replace("_", " ").title(),
        "description": f"scripted description of {n}",
        "unit": "USD" if "amount" in n else None,
        "confidence": 0.9,
    } for n in names]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without this, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def _answered(self):
        """Counts this API request as no longer in flight (once), right before its answer is written."""
        if getattr(self, "_inflight", False):
            self._inflight = False
            with LOCK:
                STATE["inflight"] -= 1

    def _json(self, code, obj, headers=()):
        data = json.dumps(obj).encode()
        self._answered()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                self._json(200, {k: STATE[k] for k in ("requests", "inflight", "max_inflight", "cancelled")})
        else:
            self._json(404, {"error": "not found"})

    def _client_gone(self, seconds):
        """Waits up to `seconds`; True as soon as the client closed the connection."""
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([self.connection], [], [], min(0.05, left))
            if r:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return True
                except OSError:
                    return True

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except Exception:
            body = {}
        if self.path == "/_control":
            with LOCK:
                for k in ("latency_ms", "default", "retry_after"):
                    if k in body:
                        STATE[k] = body[k]
                if "script" in body:
                    STATE["script"] = list(body["script"])
            return self._json(200, {"ok": True})
        if self.path == "/_reset":
            with LOCK:
                STATE.update(latency_ms=0, script=[], default="ok", retry_after="1",
                             requests=0, inflight=0, max_inflight=0, cancelled=0)
            return self._json(200, {"ok": True})
        if self.path not in ("/v1/chat/completions", "/v1/messages"):
            return self._json(404, {"error": f"unknown path {self.path}"})

        anthropic = self.path == "/v1/messages"
        key_header = self.headers.get("x-api-key") if anthropic else self.headers.get("Authorization")
        expected = os.environ.get("LLM_TEST_EXPECTED_KEY")
        if key_header is None:
            auth = "missing"
        elif expected and key_header in (expected, f"Bearer {expected}"):
            auth = "ok"
        else:
            auth = "wrong"
        with LOCK:
            STATE["requests"] += 1
            STATE["inflight"] += 1
            STATE["max_inflight"] = max(STATE["max_inflight"], STATE["inflight"])
            self._inflight = True
            action = STATE["script"].pop(0) if STATE["script"] else STATE["default"]
            latency = STATE["latency_ms"] / 1000.0
            retry_after = str(STATE["retry_after"])
        names = columns_of(body)
        rec = {"t": time.time(), "path": self.path, "action": action, "auth": auth, "columns": names,
               "anthropic_version": self.headers.get("anthropic-version"), "body": body}
        with LOCK:
            with open(RECORD, "a") as f:
                f.write(json.dumps(rec) + "\n")
        try:
            if latency and self._client_gone(latency):
                with LOCK:
                    STATE["cancelled"] += 1
                return
            self._act(action, anthropic, names, retry_after, key_header)
        except (BrokenPipeError, ConnectionResetError):
            with LOCK:
                STATE["cancelled"] += 1
        finally:
            self._answered()

    def _act(self, action, anthropic, names, retry_after, key_header):
        answer = answer_for(names)
        if action == "hang":
            if self._client_gone(30):
                with LOCK:
                    STATE["cancelled"] += 1
                return
            action = "ok"
        if action == "429":
            return self._json(429, {"error": {"message": "rate limited"}}, [("Retry-After", retry_after)])
        if action == "500":
            return self._json(500, {"error": {"message": "internal error"}})
        if action == "echo_key":
            return self._json(401, {"error": {"message": f"invalid key {key_header}"}})
        if action == "badenvelope":
            data = b"<html>this is not json"
            self._answered()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        text = json.dumps(answer)
        if action == "malformed":
            text = text[: len(text) // 2]
        if anthropic:
            if action == "malformed":
                env = {"content": [{"type": "text", "text": text}], "usage": {"input_tokens": 10, "output_tokens": 5}}
            else:
                env = {"content": [{"type": "tool_use", "name": "annotate_columns", "input": answer}],
                       "usage": {"input_tokens": 10, "output_tokens": 5}}
        else:
            env = {"choices": [{"message": {"role": "assistant", "content": text}}], "usage": {"total_tokens": 15}}
        if action == "truncated":
            data = json.dumps(env).encode()
            self._answered()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._json(200, env)


def main():
    global RECORD
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", required=True)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=900, help="stop by itself after this long")
    a = ap.parse_args()
    RECORD = a.record
    STATE["latency_ms"] = a.latency_ms
    ThreadingHTTPServer.request_queue_size = 128
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print(f"PORT {srv.server_address[1]}", flush=True)
    t = threading.Timer(a.max_seconds, srv.shutdown)
    t.daemon = True
    t.start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
