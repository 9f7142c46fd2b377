#!/usr/bin/env python3
"""Sends malformed input to every route bpmnd lists in its OpenAPI document:
odd path parameters, broken and mistyped JSON bodies, invalid UTF-8, wrong
content types. Every answer must be well formed: 2xx, or an error with a
JSON body {type, message}; the connection must never break. Prints a count
and exits 1 on the first bad answer."""
import http.client, json, sys, urllib.parse

base = sys.argv[1]
u = urllib.parse.urlparse(base)
root = u.path
bodies = [b"", b"{", b"[]", b"null", b"42", b"\"text\"", b"{\"a\":\xff\xfe}", b"\xff\xfe\xfd",
          b'{"variables":{"a":{"value":"x","type":"Integer"}}}', b'{"variables":"str"}',
          b'{"variables":{"a":{"value":1,"type":"NoSuchType"}}}', b'{"variables":{"a":5}}',
          b'{"workerId":123,"maxTasks":"x","topics":[1,{"topicName":5}]}', b'{"userId":{"x":1}}',
          b'{"instructions":[{"type":"nope"}],"modifications":7,"deletions":{"a":1}}',
          b'{"messageName":"m","correlationKeys":{"a":{"value":1},"b":{"value":2}},"all":"yes"}',
          b'{"retries":-5,"suspended":"maybe","priority":1.5,"due":"not a date"}',
          b'{"sorting":[{"sortBy":"nope","sortOrder":"up"}],"firstResult":-1,"maxResults":"x"}',
          b"{" + b"\"a\":[" * 300 + b"]" * 300 + b"}"]
params = ["x", "%FF%FE", "a" * 300, "..", "%00", "%2F"]
queries = ["", "?firstResult=-1", "?maxResults=abc", "?sortBy=x&sortOrder=asc", "?sortBy=id",
           "?variables=a_zz_1", "?dueBefore=garbage", "?active=maybe", "?cascade=%FF"]

doc = None
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
c.request("GET", root + "/openapi.json")
doc = json.loads(c.getresponse().read())
count = 0


def check(method, path, body, ctype):
    global c, count
    headers = {"Content-Type": ctype} if ctype else {}
    try:
        c.request(method, path, body, headers)
        r = c.getresponse()
        data = r.read()
    except Exception as e:  # a broken connection is a failure
        print(f"FAIL: {method} {path} {body[:60]!r}: {e}")
        sys.exit(1)
    count += 1
    if r.status >= 400 and r.status != 401:
        try:
            j = json.loads(data)
            assert isinstance(j, dict) and isinstance(j.get("type"), str) and isinstance(j.get("message"), str)
        except Exception:
            print(f"FAIL: {method} {path} {body[:60]!r}: {r.status} with a body that is not an error object: {data[:200]!r}")
            sys.exit(1)
    elif r.status in (200,) and r.getheader("Content-Type", "").startswith("application/json"):
        try:
            json.loads(data)
        except Exception:
            print(f"FAIL: {method} {path}: 200 with invalid JSON {data[:200]!r}")
            sys.exit(1)
    if r.status >= 500 and r.status != 503:
        j = json.loads(data)
        # Camunda answers some client mistakes with 500 (claim of a missing task); they name it
        if not j.get("message"):
            print(f"FAIL: {method} {path}: {r.status} without a message")
            sys.exit(1)


for path, ops in doc["paths"].items():
    for method in ops:
        m = method.upper()
        if m in ("DELETE",) and "deployment" in path:
            continue  # keep the deployment the other calls use
        for p in params:
            concrete = path
            while "{" in concrete:
                a = concrete.index("{")
                b = concrete.index("}")
                concrete = concrete[:a] + p + concrete[b + 1:]
            for q in (queries if m == "GET" else [""]):
                if m in ("POST", "PUT"):
                    for body in bodies:
                        for ctype in ("application/json", None, "multipart/form-data; boundary=zz"):
                            check(m, root + concrete + q, body, ctype)
                else:
                    check(m, root + concrete + q, None, None)
print(f"{count} malformed requests, every answer well formed")
