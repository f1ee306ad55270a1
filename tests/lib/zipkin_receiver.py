#!/usr/bin/env python3
"""Test Zipkin receiver: POST /api/v2/spans as a Zipkin collector takes it.

Standard library only. Each request body must be a JSON array of Zipkin v2
span objects (zipkin2-api.yaml): hex ids of the right lengths, the kinds
Zipkin knows, times as whole numbers, endpoints and string-only tags, and
no field Zipkin does not define. A request that is not answers 400.

  zipkin_receiver.py --port PORT --out SPANS_FILE [--fail-count N]
                     [--fail-status S] [--ready-file F]

Output, appended and flushed before each answer:
  SPANS_FILE           one JSON object per accepted span, as it was sent
  SPANS_FILE.requests  one JSON object per request: path, content_type,
                       status, spans (count), error (why it was refused)

The first --fail-count valid requests are answered --fail-status (503 by
default) and their spans not kept; then 202, as Zipkin answers.
"""

import argparse
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEX16 = re.compile(r"^[0-9a-f]{16}$")
HEX_TRACE = re.compile(r"^([0-9a-f]{16}|[0-9a-f]{32})$")
KINDS = {"CLIENT", "SERVER", "PRODUCER", "CONSUMER"}
SPAN_FIELDS = {"traceId", "id", "parentId", "name", "kind", "timestamp", "duration", "debug", "shared",
               "localEndpoint", "remoteEndpoint", "annotations", "tags"}
ENDPOINT_FIELDS = {"serviceName": str, "ipv4": str, "ipv6": str, "port": int}


class Invalid(ValueError):
    pass


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_endpoint(where, ep):
    if not isinstance(ep, dict):
        raise Invalid("%s is not an object" % where)
    for k, v in ep.items():
        want = ENDPOINT_FIELDS.get(k)
        if want is None:
            raise Invalid("%s has unknown field %r" % (where, k))
        if want is int and not (is_int(v) and 0 < v < 65536):
            raise Invalid("%s.port %r is not a port number" % (where, v))
        if want is str and not isinstance(v, str):
            raise Invalid("%s.%s is not a string" % (where, k))


def check_span(i, s):
    where = "span %d" % i
    if not isinstance(s, dict):
        raise Invalid("%s is not an object" % where)
    unknown = set(s) - SPAN_FIELDS
    if unknown:
        raise Invalid("%s has unknown fields %s" % (where, sorted(unknown)))
    if not isinstance(s.get("traceId"), str) or not HEX_TRACE.match(s["traceId"]):
        raise Invalid("%s traceId %r is not 16 or 32 lower-case hex digits" % (where, s.get("traceId")))
    if not isinstance(s.get("id"), str) or not HEX16.match(s["id"]):
        raise Invalid("%s id %r is not 16 lower-case hex digits" % (where, s.get("id")))
    if "parentId" in s and (not isinstance(s["parentId"], str) or not HEX16.match(s["parentId"])):
        raise Invalid("%s parentId %r is not 16 lower-case hex digits" % (where, s["parentId"]))
    if "name" in s and not isinstance(s["name"], str):
        raise Invalid("%s name is not a string" % where)
    if "kind" in s and s["kind"] not in KINDS:
        raise Invalid("%s kind %r is not a Zipkin kind" % (where, s["kind"]))
    if not is_int(s.get("timestamp")) or s["timestamp"] <= 0:
        raise Invalid("%s timestamp %r is not a positive whole number of microseconds" % (where, s.get("timestamp")))
    if "duration" in s and (not is_int(s["duration"]) or s["duration"] < 1):
        raise Invalid("%s duration %r is not a whole number of microseconds >= 1" % (where, s["duration"]))
    for ep in ("localEndpoint", "remoteEndpoint"):
        if ep in s:
            check_endpoint("%s %s" % (where, ep), s[ep])
    tags = s.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise Invalid("%s tags are not an object of strings" % where)
    for a in s.get("annotations", []):
        if not isinstance(a, dict) or set(a) != {"timestamp", "value"} or not is_int(a["timestamp"]) \
                or not isinstance(a["value"], str):
            raise Invalid("%s annotation %r is not {timestamp, value}" % (where, a))


def check_body(body):
    try:
        spans = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Invalid("not UTF-8 JSON: %s" % e)
    if not isinstance(spans, list):
        raise Invalid("not a JSON array")
    for i, s in enumerate(spans):
        check_span(i, s)
    return spans


class Receiver:
    def __init__(self, out, fail_count, fail_status):
        self.out = out
        self.fail_left = fail_count
        self.fail_status = fail_status
        self.lock = threading.Lock()

    def record(self, request, spans):
        with self.lock:
            if spans:
                with open(self.out, "a") as f:
                    for s in spans:
                        f.write(json.dumps(s) + "\n")
            with open(self.out + ".requests", "a") as f:
                f.write(json.dumps(request) + "\n")

    def take_failure(self):
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return True
            return False


def make_handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("zipkin_receiver: " + (fmt % args) + "\n")

        def answer(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            request = {"path": self.path, "content_type": self.headers.get("Content-Type", ""),
                       "spans": 0, "error": ""}
            if self.path != "/api/v2/spans":
                request["status"] = 404
                receiver.record(request, [])
                self.answer(404)
                return
            try:
                spans = check_body(body)
            except Invalid as e:
                request["status"] = 400
                request["error"] = str(e)
                receiver.record(request, [])
                self.answer(400)
                return
            request["spans"] = len(spans)
            if receiver.take_failure():
                request["status"] = receiver.fail_status
                receiver.record(request, [])
                self.answer(receiver.fail_status)
                return
            request["status"] = 202
            receiver.record(request, spans)
            self.answer(202)

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--fail-count", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--ready-file")
    args = p.parse_args()

    receiver = Receiver(args.out, args.fail_count, args.fail_status)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(receiver))
    server.daemon_threads = True
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(args.ready_file + ".tmp", args.ready_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
