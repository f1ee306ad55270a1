#!/usr/bin/env python3
"""Right/wrong/root shares of a service's client spans, for the event-loop
concurrency tests: each server span GET /id/<PREFIX>N of SERVICE made one
client call whose url.full ends with id=<PREFIX>N; that call is "right" when
its parent is that server span, "root" when it has no parent, "wrong"
otherwise. Calls whose id starts with bg (a background job) are counted
apart: "bg_root" those without a parent, "bg_parented" the others.

  parent_shares.py SPANS_FILE SERVICE PREFIX [--rpc]

--rpc: the server spans are gRPC calls whose method is <PREFIX>N
(rpc.method), not GET /id/<PREFIX>N.

Prints one JSON object: servers, calls, right, wrong, root, missing (server
spans without their call), bg_root, bg_parented."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spans  # noqa: E402 - the helpers beside this file


def main():
    path, service, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    rpc = sys.argv[4:] == ["--rpc"]
    key, form = ("rpc.method", r"") if rpc else ("url.path", "/id/")
    servers, calls, bg = {}, {}, []
    for s in spans.load(path):
        if s.get("service") != service:
            continue
        a = s.get("attributes") or {}
        if s.get("kind") == 2:
            m = re.fullmatch(form + re.escape(prefix) + r"(\d+)", str(a.get(key)))
            if m:
                servers[m.group(1)] = s
        elif s.get("kind") == 3:
            full = str(a.get("url.full"))
            m = re.search(r"[?&]id=" + re.escape(prefix) + r"(\d+)$", full)
            if m:
                calls[m.group(1)] = s
            elif re.search(r"[?&]id=bg\d+$", full):
                bg.append(s)
    out = {"servers": len(servers), "calls": len(calls), "right": 0, "wrong": 0, "root": 0, "missing": 0}
    for n, srv in servers.items():
        c = calls.get(n)
        if c is None:
            out["missing"] += 1
        elif not c.get("parent_span_id"):
            out["root"] += 1
        elif c.get("parent_span_id") == srv.get("span_id") and c.get("trace_id") == srv.get("trace_id"):
            out["right"] += 1
        else:
            out["wrong"] += 1
    out["bg_root"] = sum(1 for s in bg if not s.get("parent_span_id"))
    out["bg_parented"] = len(bg) - out["bg_root"]
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
