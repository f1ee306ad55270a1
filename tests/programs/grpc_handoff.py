#!/usr/bin/env python3
"""A grpcio service whose handlers call an HTTP backend, and its load
client, for the thread hand-off tests (python3-grpcio, no generated code:
methods carry raw bytes). grpcio reads each call on its I/O thread and runs
the handler on its thread pool, a thread that read nothing of the call.

  grpc_handoff.py serve BACKEND_URL READY_FILE [--background-ms MS]
      /demo.Handoff/<ID> (any ID), unary: GETs BACKEND_URL/?id=<ID> with
      urllib and answers "<ID> <status>". --background-ms: a thread that
      GETs ?id=bgK every MS ms, on behalf of no call.
      /demo.Handoff/own<ID>: the same GET, with a traceparent header of
      the handler's own (OWN_TRACEPARENT); answers the backend's body.
      /demo.Handoff/stream<ID>: server-streaming: the GET made while the
      response's iterator runs, between its two messages.
  grpc_handoff.py call PORT ID
      one call; prints its answer.
  grpc_handoff.py load PORT CHANNELS CALLS PREFIX [--per-channel K]
      CHANNELS channels, each its own connection, K calls in flight on each
      (K threads per channel), calls /demo.Handoff/<PREFIX><n> for n in
      1..CALLS, call n on channel n % CHANNELS; checks each answer names
      its own id. Prints
      "ok CALLS" or what failed.

The call's id is its method, so that its server span (named after the
method) says which call it is."""
import argparse
import os
import sys
import threading
import time
import urllib.request
from concurrent import futures

import grpc

SERVICE = "demo.Handoff"
OWN_TRACEPARENT = "00-11111111111111111111111111111111-2222222222222222-01"


def fetch(backend, ident, own=False):
    """The status of GET BACKEND/?id=IDENT (own: its body, the request
    carrying OWN_TRACEPARENT)."""
    req = urllib.request.Request("%s/?id=%s" % (backend, ident))
    if own:
        req.add_header("traceparent", OWN_TRACEPARENT)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
            return body.decode().strip() if own else r.status
    except Exception as e:  # noqa: BLE001 - the answer says what failed
        return "error %s" % type(e).__name__


class Handoff(grpc.GenericRpcHandler):
    """Every method of the service: its name is the call's id."""

    def __init__(self, backend):
        self.backend = backend

    def service(self, details):
        prefix = "/%s/" % SERVICE
        if not details.method.startswith(prefix):
            return None
        ident = details.method[len(prefix):]

        def stream(request, context):
            yield b"first"
            yield ("%s %s" % (ident, fetch(self.backend, ident))).encode()

        if ident.startswith("stream"):
            return grpc.unary_stream_rpc_method_handler(stream)

        def call(request, context):
            if ident.startswith("own"):
                return fetch(self.backend, ident, own=True).encode()
            return ("%s %s" % (ident, fetch(self.backend, ident))).encode()

        return grpc.unary_unary_rpc_method_handler(call)


def serve(args):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), maximum_concurrent_rpcs=None)
    server.add_generic_rpc_handlers((Handoff(args.backend),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    if args.background_ms:
        def background():
            k = 0
            while True:
                time.sleep(args.background_ms / 1000)
                k += 1
                fetch(args.backend, "bg%d" % k)

        threading.Thread(target=background, daemon=True).start()
    with open(args.ready_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.ready_file + ".tmp", args.ready_file)
    server.wait_for_termination()


def load(args):
    # call n on channel n % CHANNELS: every channel has its share
    todo = [iter(range(i + 1, args.calls + 1, args.channels)) for i in range(args.channels)]
    lock = threading.Lock()
    bad = []

    def worker(i, channel):
        while True:
            with lock:
                n = next(todo[i], None)
            if n is None:
                return
            ident = "%s%d" % (args.prefix, n)
            try:
                reply = channel.unary_unary("/%s/%s" % (SERVICE, ident))(b"", timeout=60).decode()
            except grpc.RpcError as e:
                reply = "error %s" % e.code().name
            if reply != ident + " 200":
                with lock:
                    bad.append((ident, reply))

    # a local subchannel pool each: one connection per channel (grpcio
    # shares a connection between channels of the same target otherwise)
    channels = [grpc.insecure_channel("127.0.0.1:%d" % args.port, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(args.channels)]
    threads = [threading.Thread(target=worker, args=(i, ch)) for i, ch in enumerate(channels)
               for _ in range(args.per_channel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ch in channels:
        ch.close()
    if bad:
        print("failed %d: %r" % (len(bad), bad[:5]))
        sys.exit(1)
    print("ok %d" % args.calls)


def call(args):
    path = "/%s/%s" % (SERVICE, args.ident)
    with grpc.insecure_channel("127.0.0.1:%d" % args.port) as ch:
        if args.ident.startswith("stream"):
            for reply in ch.unary_stream(path)(b"", timeout=60):
                print(reply.decode())
        else:
            print(ch.unary_unary(path)(b"", timeout=60).decode())


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("backend")
    s.add_argument("ready_file")
    s.add_argument("--background-ms", type=int, default=0)
    c = sub.add_parser("call")
    c.add_argument("port", type=int)
    c.add_argument("ident")
    ld = sub.add_parser("load")
    ld.add_argument("port", type=int)
    ld.add_argument("channels", type=int)
    ld.add_argument("calls", type=int)
    ld.add_argument("prefix")
    ld.add_argument("--per-channel", type=int, default=1)
    args = ap.parse_args()
    {"serve": serve, "call": call, "load": load}[args.mode](args)


if __name__ == "__main__":
    main()
