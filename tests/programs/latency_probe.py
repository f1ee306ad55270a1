#!/usr/bin/env python3
"""Load and latency probe (run untraced): sends N GET requests over one
keep-alive connection (reconnecting if the server closes it) and prints the
median and 90th percentile latency in milliseconds as JSON.

  latency_probe.py HOST PORT PATH N [--warmup W]
"""
import argparse
import http.client
import json
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("path")
    ap.add_argument("n", type=int)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()
    conn = None
    samples = []
    for i in range(args.warmup + args.n):
        if conn is None:
            conn = http.client.HTTPConnection(args.host, args.port, timeout=10)
        t0 = time.perf_counter()
        conn.request("GET", args.path)
        resp = conn.getresponse()
        resp.read()
        elapsed = (time.perf_counter() - t0) * 1000.0
        if resp.status != 200:
            print("latency_probe: status %d" % resp.status, file=sys.stderr)
            return 1
        if resp.will_close:
            conn.close()
            conn = None
        if i >= args.warmup:
            samples.append(elapsed)
    samples.sort()
    print(json.dumps({
        "n": len(samples),
        "median_ms": statistics.median(samples),
        "p90_ms": samples[int(len(samples) * 0.9) - 1],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
