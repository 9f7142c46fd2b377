#!/usr/bin/env python3
"""A stand-in for a Slack incoming webhook, for run.sh and its test: it takes
what bpmnd's slack-webhook connector posts and answers as hooks.slack.com
does (200 "ok"; 400 "invalid_payload" for a body that is not JSON or has
neither text nor blocks; 404 "no_service" for any path outside /services/).

Each message is printed (the text, then the blocks as Slack would lay them
out, roughly) and appended to --record as a JSON line {path, headers, body}.

  slack.py [--port N] [--port-file FILE] [--record FILE]
"""
import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()


def say(text):
    for line in text.splitlines() or [""]:
        print(f"  [slack] {line}", flush=True)


def show(msg):
    say("text:")
    for line in (msg.get("text") or "").splitlines():
        say("    " + line)
    blocks = msg.get("blocks") or []
    say(f"blocks ({len(blocks)}):")
    for b in blocks:
        if b.get("type") in ("header", "section"):
            for line in ((b.get("text") or {}).get("text") or "").splitlines():
                say(f"    {b['type']:8} {line}")
        elif b.get("type") == "context":
            for e in b.get("elements") or []:
                say(f"    context  {e.get('text', '')}")
        else:
            say(f"    {b.get('type')}")


def main():
    ap = argparse.ArgumentParser(description="a Slack incoming webhook stand-in")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--record")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            if not self.path.startswith("/services/"):
                return self.answer(404, "no_service")
            try:
                msg = json.loads(body)
            except ValueError:
                msg = None
            if not isinstance(msg, dict) or not (msg.get("text") or msg.get("blocks")):
                return self.answer(400, "invalid_payload")
            with lock:
                if args.record:
                    with open(args.record, "a") as f:
                        f.write(json.dumps({"path": self.path, "headers": dict(self.headers.items()), "body": msg}) + "\n")
                say(f"message posted (Idempotency-Key {self.headers.get('Idempotency-Key')}):")
                show(msg)
            self.answer(200, "ok")

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
