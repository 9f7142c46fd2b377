#!/usr/bin/env python3
"""Turns one command of a libpq protocol trace (bench_durable trace) into a
pgbench script that sends exactly its SQL, with the same round trips.

  replay.py TRACE --kind start|correlate --script OUT.sql --defs OUT.defs
            [--prelude LINE]... [--var n]

The command taken is the last one of that kind: by then every statement of
the session is prepared, so it is the steady state. Each Sync or simple Query
of the client is one round trip: a group of several statements before a Sync
(a libpq pipeline) becomes \\startpipeline ... \\endpipeline.

Parameters: the instance id and the business key of the command become the
per-transaction variable :n (set by the prelude); every other value becomes a
pgbench variable defined with -D (written NUL-separated to OUT.defs, so it
can hold any text), so the server receives it as a parameter as bpmnd sends
it. pgbench cannot send NULL through a variable, so a NULL parameter is
written as the literal NULL: the only difference from what bpmnd sends.

Prints the command's statements, round trips and protocol bytes each way.
"""
import argparse
import re
import sys


def parse_quoted(s, i):
    """A "string" of the trace at s[i] (a space before it); returns (text, next)."""
    assert s[i] == ' ' and s[i + 1] == '"', s[i:i + 40]
    j = i + 2
    # strings hold no NUL; the trace prints them raw, so the end is the next
    # '"' followed by a space or the end of the line
    while True:
        k = s.index('"', j)
        if k + 1 == len(s) or s[k + 1] == ' ':
            return s[i + 2:k], k + 1
        j = k + 1


def parse_int(s, i):
    m = re.compile(r' (-?\d+)').match(s, i)
    return int(m.group(1)), m.end()


def parse_nchar(s, i, n):
    """n bytes printed as ' '...' with non-printable bytes as \\xNN."""
    assert s[i:i + 2] == " '", s[i:i + 40]
    j = i + 2
    out = bytearray()
    while len(out) < n:
        if s[j] == '\\' and s[j + 1] == 'x' and re.fullmatch(r'[0-9a-f]{2}', s[j + 2:j + 4]):
            out.append(int(s[j + 2:j + 4], 16))
            j += 4
        else:
            out += s[j].encode('latin-1')
            j += 1
    assert s[j] == "'", s[j - 20:j + 20]
    return out.decode('utf-8'), j + 1


def parse_bind(rest):
    portal, i = parse_quoted(rest, 0)
    stmt, i = parse_quoted(rest, i)
    nfmt, i = parse_int(rest, i)
    for _ in range(nfmt):
        _, i = parse_int(rest, i)
    nparams, i = parse_int(rest, i)
    params = []
    for _ in range(nparams):
        n, i = parse_int(rest, i)
        if n < 0:
            params.append(None)
        else:
            v, i = parse_nchar(rest, i, n)
            params.append(v)
    return stmt, params


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('trace')
    ap.add_argument('--kind', default='start')
    ap.add_argument('--script', required=True)
    ap.add_argument('--defs', required=True)
    ap.add_argument('--prelude', action='append', default=[])
    ap.add_argument('--var', default='n')
    a = ap.parse_args()

    lines = open(a.trace, encoding='latin-1').read().split('\n')
    prepared = {}  # statement name -> SQL, as of the start of the command taken
    segments = []  # (kind, id, business key, lines)
    cur = []
    for line in lines:
        if line.startswith('#bpmnd '):
            _, kind, iid, bk = line.split(' ')
            segments.append((kind, iid, None if bk == '-' else bk, cur))
            cur = []
        elif line:
            cur.append(line)
    chosen = [k for k, s in enumerate(segments) if s[0] == a.kind]
    if not chosen:
        sys.exit(f'replay.py: no "{a.kind}" command in {a.trace}')
    last = chosen[-1]
    for _, _, _, seg in segments[:last]:
        for line in seg:
            d, _, typ, *rest = line.split('\t', 3)
            if d == 'F' and typ == 'Parse':
                name, i = parse_quoted(rest[0], 0)
                sql, i = parse_quoted(rest[0], i)
                prepared[name] = sql
    kind, iid, bk, seg = segments[last]

    consts = {}  # value -> variable name
    out = [f'-- {kind} as bpmnd sent it (bench_durable trace, tests/bench/replay.py)']
    out += a.prelude
    group = []
    stmts = trips = sent = received = 0
    bind = None

    def sql_of(stmt_sql, params):
        def sub(m):
            v = params[int(m.group(1)) - 1]
            if v is None:
                return 'NULL'
            if v in (iid, bk):
                return ':' + a.var
            if v not in consts:
                consts[v] = f'v{len(consts) + 1}'
            return ':' + consts[v]
        return re.sub(r'\$(\d+)(?!\d)', sub, stmt_sql)

    def flush():
        if len(group) > 1:
            out.append('\\startpipeline')
            out.extend(s + ';' for s in group)
            out.append('\\endpipeline')
        elif group:
            out.append(group[0] + ';')
        group.clear()

    for line in seg:
        d, length, typ, *rest = line.split('\t', 3)
        if d == 'B':
            received += int(length) + 1
            continue
        sent += int(length) + 1
        if typ == 'Query':
            sql, _ = parse_quoted(rest[0], 0)
            flush()
            out.append(sql + ';')
            stmts += 1
            trips += 1
        elif typ == 'Parse':
            name, i = parse_quoted(rest[0], 0)
            sql, _ = parse_quoted(rest[0], i)
            prepared[name] = sql
        elif typ == 'Bind':
            bind = parse_bind(rest[0])
        elif typ == 'Execute':
            stmt, params = bind
            group.append(sql_of(prepared[stmt], params))
            stmts += 1
        elif typ == 'Sync':
            flush()
            trips += 1
    flush()

    with open(a.script, 'w') as f:
        f.write('\n'.join(out) + '\n')
    with open(a.defs, 'wb') as f:
        for v, name in consts.items():
            if '\0' in v:
                sys.exit('replay.py: a parameter holds a NUL byte')
            f.write(f'-D{name}={v}'.encode('utf-8') + b'\0')
    print(f'{kind}: {stmts} statements, {trips} round trips, {sent} bytes sent, {received} bytes received')


if __name__ == '__main__':
    main()
