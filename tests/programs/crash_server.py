#!/usr/bin/env python3
"""An HTTP server that dies inside a request (the crash capture's tests,
tests/integration/36-crash.bats).

  crash_server.py --port PORT --ready-file FILE [--tls-cert CRT --tls-key KEY]

GET /segv reads address 0 (ctypes.string_at(0): SIGSEGV in the
interpreter), GET /abort calls os.abort() (SIGABRT); anything else is
answered 200 "ok". Single-threaded: the crash happens on the thread that
read the request. With --tls-cert/--tls-key it speaks HTTPS."""

import argparse
import ctypes
import os
import ssl
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/segv":
            ctypes.string_at(0)
        elif self.path == "/abort":
            os.abort()
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    server = HTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(args.ready_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(args.ready_file + ".tmp", args.ready_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
