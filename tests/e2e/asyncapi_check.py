#!/usr/bin/env python3
"""Checks docs/asyncapi.yaml for tests/e2e/asyncapi.sh.

  structure DOC                     AsyncAPI 3.0 shape: every $ref resolves, every operation
                                    names an existing channel and messages of that channel,
                                    every example validates against its message
  examples DOC OPERATION            the examples of an operation's messages, one JSON line each:
                                    {"message": NAME, "headers": {...}, "payload": ..., "amqp": {...}}
  webhooks DOC URL SECRET CHANNEL=ENDPOINT...
                                    POSTs the examples of the receive operations on those channels
                                    to URL/webhooks/ENDPOINT (GitHub ones signed with SECRET);
                                    prints "CHANNEL MESSAGE EXAMPLE STATUS" lines
  validate DOC MESSAGE CAPTURED [--namespace P]... [--extra NAME]...
                                    validates a captured message ({"headers", "payload", "amqp"},
                                    JSON, "-" = stdin; one per line) against
                                    #/components/messages/MESSAGE: the schemas, the required header
                                    names sent, and every sent header name with a prefix P listed
                                    by the document (or given with --extra)
  record DOC RECORD [--extra NAME]...
                                    validates what receiver.py recorded: Slack bodies, CloudEvents
                                    in binary and structured mode; prints the counts

A JSON-schema subset: type, required, properties, enum, const, items, $ref; format is ignored.
"""
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.request

import yaml


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def resolve(doc, ref):
    if not ref.startswith("#/"):
        raise KeyError(f"only local references are used: {ref}")
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"$ref {ref} does not resolve (no {part!r})")
        node = node[part]
    return node


def deref(doc, node, seen=()):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise KeyError(f"$ref cycle at {ref}")
        seen = seen + (ref,)
        node = resolve(doc, ref)
    return node


def all_refs(node, path="#"):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield path, v
            else:
                yield from all_refs(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from all_refs(v, f"{path}/{i}")


TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def validate(doc, schema, value, where, errors, fold_case=False):
    """The subset: type, required, properties, enum, const, items; format ignored.
    fold_case: property names compared case-insensitively (HTTP headers)."""
    schema = deref(doc, schema)
    if not isinstance(schema, dict):
        return
    t = schema.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(TYPES[x](value) for x in ts):
            errors.append(f"{where}: {json.dumps(value)[:80]} is not {t}")
            return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {json.dumps(value)[:80]} is not the constant {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {json.dumps(value)[:80]} is not one of {schema['enum']}")
    if isinstance(value, dict):
        keys = {(k.lower() if fold_case else k): k for k in value}
        for r in schema.get("required", []):
            if (r.lower() if fold_case else r) not in keys:
                errors.append(f"{where}: the required {r!r} is missing")
        for name, sub in (schema.get("properties") or {}).items():
            k = keys.get(name.lower() if fold_case else name)
            if k is not None:
                validate(doc, sub, value[k], f"{where}.{name}", errors)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            validate(doc, schema["items"], v, f"{where}[{i}]", errors)


def check_message(doc, msg, captured, where, errors):
    if "headers" in msg:
        validate(doc, msg["headers"], captured.get("headers") or {}, f"{where} headers", errors, fold_case=True)
    if "payload" in msg:
        validate(doc, msg["payload"], captured.get("payload"), f"{where} payload", errors)
    if "x-amqp-properties" in msg:
        validate(doc, msg["x-amqp-properties"], captured.get("amqp") or {}, f"{where} AMQP properties", errors)


def structure(doc):
    errors = []
    if doc.get("asyncapi") != "3.0.0":
        errors.append(f"asyncapi is {doc.get('asyncapi')!r}, not 3.0.0")
    for key in ("info", "channels", "operations", "components"):
        if not isinstance(doc.get(key), dict):
            errors.append(f"no {key} object")
    if errors:
        return errors
    for k in ("title", "version"):
        if not isinstance(doc["info"].get(k), str):
            errors.append(f"info.{k} is missing")
    for path, ref in all_refs(doc):
        try:
            resolve(doc, ref)
        except KeyError as e:
            errors.append(f"{path}: {e}")
    if errors:
        return errors  # the rest follows references
    for name, s in (doc.get("servers") or {}).items():
        for k in ("host", "protocol"):
            if not isinstance(s.get(k), str):
                errors.append(f"server {name}: no {k}")
    for name, ch in doc["channels"].items():
        ch = deref(doc, ch)
        if "address" not in ch:
            errors.append(f"channel {name}: no address")
        for mname, m in (ch.get("messages") or {}).items():
            m = deref(doc, m)
            if not isinstance(m, dict) or "payload" not in m:
                errors.append(f"channel {name}: message {mname} has no payload")
        for s in ch.get("servers") or []:
            if not s.get("$ref", "").startswith("#/servers/"):
                errors.append(f"channel {name}: a server that is not a reference to #/servers")
    for name, op in doc["operations"].items():
        if op.get("action") not in ("send", "receive"):
            errors.append(f"operation {name}: action {op.get('action')!r} is neither send nor receive")
        cref = (op.get("channel") or {}).get("$ref", "")
        if not cref.startswith("#/channels/") or cref.count("/") != 2:
            errors.append(f"operation {name}: channel {cref!r} is not a reference to a channel")
            continue
        cname = cref.split("/")[2]
        if cname not in doc["channels"]:
            errors.append(f"operation {name}: no channel {cname}")
            continue
        ch = deref(doc, doc["channels"][cname])
        msgs = op.get("messages") or []
        if not msgs:
            errors.append(f"operation {name}: no messages")
        for m in msgs:
            mref = m.get("$ref", "")
            prefix = f"#/channels/{cname}/messages/"
            if not mref.startswith(prefix) or mref[len(prefix):] not in (ch.get("messages") or {}):
                errors.append(f"operation {name}: message {mref!r} is not a message of channel {cname}")
    for mname, m in (doc["components"].get("messages") or {}).items():
        for i, ex in enumerate(m.get("examples") or []):
            captured = {"headers": ex.get("headers") or {}, "payload": ex.get("payload"),
                        "amqp": ex.get("x-amqp-properties") or {}}
            if "payload" in ex:
                check_message(doc, m, captured, f"example {mname}/{ex.get('name', i)}", errors)
    return errors


def operation_examples(doc, opname):
    op = doc["operations"][opname]
    for m in op["messages"]:
        msg = deref(doc, resolve(doc, m["$ref"]))
        for ex in msg.get("examples") or []:
            yield m["$ref"].split("/")[-1], ex


def cmd_webhooks(doc, url, secret, pairs):
    endpoints = dict(p.split("=", 1) for p in pairs)
    bad = 0
    for opname, op in doc["operations"].items():
        cname = op["channel"]["$ref"].split("/")[2]
        if op["action"] != "receive" or cname not in endpoints:
            continue
        for mname, ex in operation_examples(doc, opname):
            headers = dict(ex.get("headers") or {})
            body = ex["payload"]
            raw = (body if isinstance(body, str) else json.dumps(body)).encode()
            if "X-Hub-Signature-256" in headers:
                headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            req = urllib.request.Request(f"{url}/webhooks/{endpoints[cname]}", data=raw, headers=headers,
                                         method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    status, text = r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                status, text = e.code, e.read().decode()
            print(cname, mname, ex.get("name", "?"), status, text.replace("\n", " ")[:300])
            bad += status != 202
    return bad


def names_check(doc, msg, headers, namespaces, extra, where, errors):
    """Every required header was sent; every sent header in the namespaces is listed."""
    hs = deref(doc, msg.get("headers") or {})
    listed = {k.lower() for k in (hs.get("properties") or {})} | {e.lower() for e in extra}
    sent = {k.lower() for k in headers}
    for r in hs.get("required") or []:
        if r.lower() not in sent:
            errors.append(f"{where}: the document requires the header {r!r}, which the code did not send")
    for k in sorted(sent):
        if any(k.startswith(p.lower()) for p in namespaces) and k not in listed:
            errors.append(f"{where}: the code sent the header {k!r}, which the document does not list")


def cmd_validate(doc, mname, text, namespaces, extra):
    msg = deref(doc, doc["components"]["messages"][mname])
    errors = []
    n = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        captured = json.loads(line)
        n += 1
        check_message(doc, msg, captured, f"{mname} #{n}", errors)
        names_check(doc, msg, captured.get("headers") or {}, namespaces, extra, f"{mname} #{n}", errors)
    if not n:
        errors.append(f"{mname}: nothing was captured")
    return errors, n


def cmd_record(doc, path, extra):
    from urllib.parse import unquote

    errors = []
    counts = {"slack": 0, "binary": 0, "structured": 0}
    msgs = doc["components"]["messages"]
    for line in open(path):
        r = json.loads(line)
        h = r["headers"]
        hl = {k.lower(): v for k, v in h.items()}
        ct = hl.get("content-type", "")
        if r["path"].startswith("/services/"):
            counts["slack"] += 1
            cap = {"headers": h, "payload": json.loads(r["body"])}
            check_message(doc, deref(doc, msgs["SlackMessage"]), cap, f"Slack {r['path'][:20]}", errors)
        elif ct.startswith("application/cloudevents+json"):
            counts["structured"] += 1
            m = deref(doc, msgs["CloudEventOutStructured"])
            cap = {"headers": h, "payload": json.loads(r["body"])}
            check_message(doc, m, cap, "structured CloudEvent", errors)
            names_check(doc, m, h, ["ce-"], extra, "structured CloudEvent", errors)
        elif "ce-specversion" in hl:
            counts["binary"] += 1
            m = deref(doc, msgs["CloudEventOutBinary"])
            body = r["body"]
            data = (json.loads(body) if "json" in ct else body) if body else None
            cap = {"headers": {k: unquote(v) if k.lower().startswith("ce-") else v for k, v in h.items()},
                   "payload": data}
            check_message(doc, m, cap, f"binary CloudEvent {hl.get('ce-type')}", errors)
            names_check(doc, m, h, ["ce-"], extra, f"binary CloudEvent {hl.get('ce-type')}", errors)
    for k, v in counts.items():
        if not v:
            errors.append(f"no {k} message was captured")
    return errors, counts


def main():
    a = sys.argv[1:]
    doc = load(a[1])
    if a[0] == "structure":
        errors = structure(doc)
        for e in errors:
            print("asyncapi:", e)
        print(f"{len(doc.get('channels', {}))} channels, {len(doc.get('operations', {}))} operations,"
              f" {len(errors)} errors")
        return 1 if errors else 0
    if a[0] == "examples":
        for mname, ex in operation_examples(doc, a[2]):
            print(json.dumps({"message": mname, "name": ex.get("name"), "headers": ex.get("headers") or {},
                              "payload": ex.get("payload"), "amqp": ex.get("x-amqp-properties") or {}}))
        return 0
    if a[0] == "webhooks":
        return 1 if cmd_webhooks(doc, a[2], a[3], a[4:]) else 0
    namespaces, extra, rest = [], [], []
    i = 2
    while i < len(a):
        if a[i] in ("--namespace", "--extra") and i + 1 < len(a):
            (namespaces if a[i] == "--namespace" else extra).append(a[i + 1])
            i += 2
        else:
            rest.append(a[i])
            i += 1
    if a[0] == "validate":
        text = sys.stdin.read() if rest[1] == "-" else open(rest[1]).read()
        errors, n = cmd_validate(doc, rest[0], text, namespaces, extra)
        for e in errors:
            print("asyncapi:", e)
        print(f"{rest[0]}: {n} captured, {len(errors)} errors")
        return 1 if errors else 0
    if a[0] == "record":
        errors, counts = cmd_record(doc, rest[0], extra)
        for e in errors:
            print("asyncapi:", e)
        print(f"record: {counts}, {len(errors)} errors")
        return 1 if errors else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
