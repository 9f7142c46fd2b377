#!/usr/bin/env python3
"""The systems the offboarding process talks to, on one local port, for the
demo and its tests: the IT access API (one account per system and employee)
and the HR system that receives the outcome.

  POST /systems/SYSTEM/revoke         revoke the employee's access (JSON body with employeeId)
  POST /systems/SYSTEM/enable         give it back (the compensation)
  POST /notifications                 a reminder for IT
  POST /offboarding/EMPLOYEE/completed   the summary, at the end
  POST /offboarding/EMPLOYEE/withdrawn   the departure was withdrawn
  GET  /state                         every account: {"SYSTEM/EMPLOYEE": "revoked" | "enabled"}

Each request is printed as one readable line and appended to --record as a
JSON line {method, path, key, body, status, repeat}. Requests are idempotent
by their Idempotency-Key header (bpmnd sends the job id, the same on every
attempt): a repeated key gets the first answer again and changes nothing.
A system named with --refuse answers 404 (no such account) to revocations,
the kind of failure that retrying does not cure.

  systems.py [--port N] [--port-file FILE] [--record FILE] [--refuse SYSTEM]...
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
accounts = {}  # "system/employee" -> "revoked" | "enabled"
answered = {}  # Idempotency-Key -> (status, body)


def say(line):
    print(f"  [systems] {line}", flush=True)


def main():
    ap = argparse.ArgumentParser(description="the IT and HR systems of the offboarding demo")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--record")
    ap.add_argument("--refuse", action="append", default=[])
    args = ap.parse_args()

    def handle(method, path, body):
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        data = {}
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                data = {"text": body}
        if method == "GET" and parts == ["state"]:
            return 200, dict(accounts), None
        if method != "POST":
            return 405, {"error": "method not allowed"}, None
        if len(parts) == 3 and parts[0] == "systems" and parts[2] in ("revoke", "enable"):
            system, action, emp = parts[1], parts[2], data.get("employeeId", "?")
            if action == "revoke" and system in args.refuse:
                return 404, {"error": f"no account of {emp} in {system}"}, f"{system}: no account of {emp}: refused (404)"
            state = "revoked" if action == "revoke" else "enabled"
            accounts[f"{system}/{emp}"] = state
            return 200, {"system": system, "employeeId": emp, "access": state}, f"{system}: access of {emp} {state}"
        if parts == ["notifications"]:
            return 202, {"queued": True}, f"notification to {data.get('to', '?')}: {data.get('text', '')}"
        if len(parts) == 3 and parts[0] == "offboarding" and parts[2] in ("completed", "withdrawn"):
            if parts[2] == "completed":
                return 200, {"received": True}, f"HR: offboarding of {parts[1]} completed: {data.get('text', '')}"
            again = ", ".join(data.get("reenabledSystems") or []) or "none"
            return 200, {"received": True}, f"HR: departure of {parts[1]} withdrawn; access re-enabled in: {again}"
        return 404, {"error": "unknown path"}, None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def serve(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            key = self.headers.get("Idempotency-Key")
            with lock:
                repeat = key is not None and key in answered
                if repeat:
                    status, answer = answered[key]
                    line = f"{self.command} {self.path}: a repeat (Idempotency-Key {key}), answered as before"
                else:
                    status, answer, line = handle(self.command, self.path, body)
                    if key is not None and self.command == "POST":
                        answered[key] = (status, answer)
                if line:
                    say(line)
                if args.record and self.path != "/state":
                    with open(args.record, "a") as f:
                        f.write(json.dumps({"method": self.command, "path": self.path, "key": key, "body": body,
                                            "status": status, "repeat": repeat}) + "\n")
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = serve

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
