#!/usr/bin/env python3
"""Reads a receiver.py record and prints, as one JSON array, every request
that carries a CloudEvent, decoded as the CloudEvents 1.0 HTTP binding says:
{path, mode: "binary"|"structured", attrs: {specversion, id, ...}, data,
content_type, headers}. Binary mode: attributes from the ce-* headers
(percent-decoded), datacontenttype from Content-Type, data from the body
(JSON when the type says JSON). Structured mode: the body is the event."""
import json
import sys
from urllib.parse import unquote

out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    h = {k.lower(): v for k, v in r["headers"].items()}
    ct = h.get("content-type", "")
    if ct.startswith("application/cloudevents+json"):
        ev = json.loads(r["body"])
        data = ev.pop("data", None)
        out.append({"path": r["path"], "mode": "structured", "attrs": ev, "data": data, "content_type": ct,
                    "headers": r["headers"]})
    elif "ce-specversion" in h:
        attrs = {k[3:]: unquote(v) for k, v in h.items() if k.startswith("ce-")}
        if ct:
            attrs["datacontenttype"] = ct
        body = r["body"]
        data = (json.loads(body) if "json" in ct else body) if body else None
        out.append({"path": r["path"], "mode": "binary", "attrs": attrs, "data": data, "content_type": ct,
                    "headers": r["headers"]})
print(json.dumps(out))
