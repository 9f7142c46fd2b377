#!/usr/bin/env python3
"""A stand-in for the card management system the fraud case calls, on one
local port, for the demo and its tests:

  POST /cards/CARD/freeze     freeze the card (JSON body: cardId, reason, transactions)
  POST /cards/CARD/unfreeze   the case cleared it
  POST /cards/CARD/close      fraud confirmed: the card is closed for good
  GET  /cards                 every card touched: {"CARD": "frozen" | "active" | "closed"}

Each request is printed as one line and appended to --record as a JSON line
{method, path, card, action, key, body, status, repeat}. Requests are
idempotent by their Idempotency-Key header (bpmnd sends the connector job's
id, the same on every attempt): a repeat gets the first answer again.

  card-service.py [--port N] [--port-file FILE] [--record FILE]
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
cards = {}     # card id -> "frozen" | "active" | "closed"
answered = {}  # Idempotency-Key -> (status, body)
STATE = {"freeze": "frozen", "unfreeze": "active", "close": "closed"}


def say(line):
    print(f"  [card-service] {line}", flush=True)


def main():
    ap = argparse.ArgumentParser(description="the card service of the fraud-review example")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--record")
    args = ap.parse_args()

    def handle(method, parts, data):
        if method == "GET" and parts == ["cards"]:
            return 200, dict(cards), None
        if method == "POST" and len(parts) == 3 and parts[0] == "cards" and parts[2] in STATE:
            card, action = parts[1], parts[2]
            if cards.get(card) == "closed" and action != "close":
                return 409, {"error": f"card {card} is closed"}, f"{card}: {action} refused, the card is closed"
            cards[card] = STATE[action]
            why = data.get("reason") or ""
            return 200, {"cardId": card, "status": cards[card]}, f"{card}: {STATE[action]} ({why})"
        return 404, {"error": "unknown path"}, None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def serve(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            key = self.headers.get("Idempotency-Key")
            parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
            try:
                data = json.loads(body) if body else {}
            except ValueError:
                data = {}
            with lock:
                repeat = key is not None and key in answered
                if repeat:
                    status, answer = answered[key]
                    line = f"{self.command} {self.path}: a repeat (Idempotency-Key {key}), answered as before"
                else:
                    status, answer, line = handle(self.command, parts, data if isinstance(data, dict) else {})
                    if key is not None and self.command == "POST":
                        answered[key] = (status, answer)
                if line:
                    say(line)
                if args.record and self.command == "POST":
                    with open(args.record, "a") as f:
                        f.write(json.dumps({"method": self.command, "path": self.path,
                                            "card": parts[1] if len(parts) > 1 else None,
                                            "action": parts[2] if len(parts) > 2 else None, "key": key,
                                            "body": body, "status": status, "repeat": repeat}) + "\n")
            out = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = serve

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
