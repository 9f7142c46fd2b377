#!/usr/bin/env python3
"""A stand-in for the systems a connector calls, for the e2e tests.

Listens on 127.0.0.1 (an ephemeral port written to --port-file), appends
every request to --record as one JSON line {method, path, headers, body},
and answers by path:
  /ok       200 JSON {"id": 42, "name": "alice", ...}
  /echo     200 JSON echoing the request's headers and body
  /text     200 text/plain
  /missing  404 JSON {"error": "no such user"}
  /fail     500 text
  /slow     sleeps --slow seconds, then 200 JSON
  /redirect 302 to /ok
  /big      200 with a 2 MiB body
  /events   202, empty (a CloudEvents sink)
  /flaky    500 the first time an Idempotency-Key is seen, then 202
  /services/...  a Slack incoming webhook: 200 "ok"; by the JSON body's
            channel: "missing" 404 channel_not_found, "archived" 410
            channel_is_archived, "busy" 429 rate_limited (Retry-After: 120),
            "down" 503; no text and no blocks (or no JSON) 400 invalid_payload
anything else 404. With --tls-cert and --tls-key it speaks HTTPS.
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
flaky_seen = set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--slow", type=float, default=5.0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, ctype="application/json", extra=None):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Receiver", "e2e")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            path = self.path.split("?", 1)[0]
            rec = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body}
            with lock:
                with open(args.record, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            if path == "/ok":
                self.answer(200, {"id": 42, "name": "alice", "method": self.command})
            elif path == "/echo":
                self.answer(200, {"headers": dict(self.headers.items()), "body": body})
            elif path == "/text":
                self.answer(200, b"plain words", "text/plain; charset=utf-8")
            elif path == "/missing":
                self.answer(404, {"error": "no such user"})
            elif path == "/fail":
                self.answer(500, b"boom", "text/plain")
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/events":
                self.answer(202, b"", "text/plain")
            elif path == "/flaky":
                key = self.headers.get("Idempotency-Key", "")
                with lock:
                    first = key not in flaky_seen
                    flaky_seen.add(key)
                self.answer(500, b"try again", "text/plain") if first else self.answer(202, b"", "text/plain")
            elif path.startswith("/services/"):
                self.slack(body)
            elif path == "/big":
                self.answer(200, b"x" * (2 * 1024 * 1024), "text/plain")
            elif path == "/slow":
                time.sleep(args.slow)
                try:
                    self.answer(200, {"late": True})
                except OSError:
                    pass  # the caller gave up
            else:
                self.answer(404, {"error": "unknown path"})

        def slack(self, body):
            # as hooks.slack.com answers: text/html, the error as the whole body
            try:
                msg = json.loads(body)
            except ValueError:
                msg = None
            channel = msg.get("channel") if isinstance(msg, dict) else None
            if not isinstance(msg, dict) or not (msg.get("text") or msg.get("blocks")):
                self.answer(400, b"invalid_payload", "text/html")
            elif channel == "missing":
                self.answer(404, b"channel_not_found", "text/html")
            elif channel == "archived":
                self.answer(410, b"channel_is_archived", "text/html")
            elif channel == "busy":
                self.answer(429, b"rate_limited", "text/html", {"Retry-After": "120"})
            elif channel == "down":
                self.answer(503, b"", "text/html")
            else:
                self.answer(200, b"ok", "text/html")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if args.tls_cert:
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
