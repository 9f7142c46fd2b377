#!/usr/bin/env python3
"""Drives bpmnd over HTTP for tests/bench/bench_rest.sh (standard library
only): start N instances, or run W external-task workers that each loop
fetchAndLock(1) -> complete for S seconds and print cycles per second."""
import http.client, json, sys, time, urllib.parse
from multiprocessing import Process, Queue


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port), u.path


def post(c, path, body):
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data else None


def starter(base, key, n, q):
    c, root = conn(base)
    for i in range(n):
        post(c, f"{root}/process-definition/key/{key}/start", {"businessKey": f"b-{i}"})
    q.put(n)


def worker(base, topic, seconds, q, wid):
    c, root = conn(base)
    done, empty, end = 0, 0, time.time() + seconds
    while time.time() < end:
        tasks = post(c, f"{root}/external-task/fetchAndLock",
                     {"workerId": wid, "maxTasks": 1, "topics": [{"topicName": topic, "lockDuration": 60000}]})
        if not tasks:
            empty += 1
            continue
        post(c, f"{root}/external-task/{tasks[0]['id']}/complete",
             {"workerId": wid, "variables": {"done": {"value": True, "type": "Boolean"}}})
        done += 1
    q.put((done, empty))


def main():
    mode, base = sys.argv[1], sys.argv[2]
    q = Queue()
    if mode == "start":
        key, n, par = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        ps = [Process(target=starter, args=(base, key, n // par, q)) for _ in range(par)]
        t0 = time.time()
        [p.start() for p in ps]
        [p.join() for p in ps]
        total = sum(q.get() for _ in ps)
        print(f"started {total} instances in {time.time() - t0:.1f} s")
    else:
        topic, workers, seconds = sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        ps = [Process(target=worker, args=(base, topic, seconds, q, f"w{i}")) for i in range(workers)]
        [p.start() for p in ps]
        [p.join() for p in ps]
        res = [q.get() for _ in ps]
        done = sum(r[0] for r in res)
        print(f"{done / seconds:.0f} fetchAndLock+complete cycles/s with {workers} workers "
              f"({done} in {seconds:.0f} s, {sum(r[1] for r in res)} empty fetches)")


if __name__ == "__main__":
    main()
