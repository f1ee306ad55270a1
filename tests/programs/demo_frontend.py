#!/usr/bin/env python3
"""The demo's frontend: an unmodified-looking Python web service (standard
library only) that calls a backend for every request it serves, the way a
real service calls another. Nothing in it knows about tracing: under the
shim, its server span and the backend calls it makes become one trace.

  demo_frontend.py --port 0 --ready-file F --backend http://127.0.0.1:PORT

GET /anything fetches BACKEND/ (the listing) and BACKEND/hello.txt and
answers with a one-line summary.
"""
import argparse
import os
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Frontend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend = ""
    disable_nagle_algorithm = True  # see http_backend.py

    def log_message(self, format, *args):  # noqa: A002 - http.server's name
        pass

    def do_GET(self):
        sizes = []
        for path in ("/", "/hello.txt"):
            with urllib.request.urlopen(self.backend + path, timeout=10) as r:
                sizes.append("%s=%d bytes" % (path, len(r.read())))
        body = ("frontend %s: backend gave %s\n" % (self.path, ", ".join(sizes))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--backend", required=True)
    args = ap.parse_args()
    Frontend.backend = args.backend.rstrip("/")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Frontend)
    server.daemon_threads = True
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.ready_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
