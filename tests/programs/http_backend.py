#!/usr/bin/env python3
"""An HTTP/1.1 test backend (standard library only) with the response shapes
the integration tests need the shim to follow on the wire.

  http_backend.py --port 0 --ready-file F [--root DIR]

Routes (GET and HEAD unless noted):
  /chunked        200, Transfer-Encoding: chunked, five chunks
  /status/NNN     status NNN with a small body (none for 204 and 304)
  /upload  (POST) reads the body (Content-Length or chunked; answers
                  Expect: 100-continue) and returns JSON {"length", "sha256"}
  /slow?ms=N      200 after N milliseconds
  anything else   a file under --root, or 404
Keeps connections alive (HTTP/1.1). With --tls-cert/--tls-key it speaks HTTPS. Writes its port to the ready file once
it listens. Logs nothing.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otelauto-test-backend/1.0"
    # headers and body go out in separate writes: without this, Nagle plus
    # the peer's delayed ACK add 40 ms to every keep-alive response
    disable_nagle_algorithm = True
    root = "."

    def log_message(self, format, *args):  # noqa: A002 - http.server's name
        pass

    def send_small(self, code, body, content_type="text/plain"):
        if code in (204, 304):
            # these never carry a body, whatever the headers would say
            self.send_response(code)
            self.end_headers()
            return
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path == "/chunked":
            self.send_chunked()
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):] or "200")
            self.send_small(code, "status %d\n" % code)
        elif path == "/slow":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["100"])[0])
            time.sleep(ms / 1000.0)
            self.send_small(200, "slept %d ms\n" % ms)
        else:
            self.send_file(path)

    do_HEAD = do_GET

    def send_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        for i in range(5):
            chunk = ("chunk %d %s\n" % (i, "x" * (i * 100))).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            time.sleep(0.01)
        self.wfile.write(b"0\r\n\r\n")

    def send_file(self, path):
        rel = os.path.normpath(urllib.parse.unquote(path)).lstrip("/")
        full = os.path.join(self.root, rel)
        if rel.startswith("..") or not os.path.isfile(full):
            self.send_small(404, "not found\n")
            return
        size = os.path.getsize(full)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(full, "rb") as f:
            shutil.copyfileobj(f, self.wfile, 256 * 1024)

    def read_body(self):
        digest = hashlib.sha256()
        length = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                digest.update(data)
                length += len(data)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining > 0:
                data = self.rfile.read(min(remaining, 256 * 1024))
                if not data:
                    break
                digest.update(data)
                length += len(data)
                remaining -= len(data)
        return length, digest.hexdigest()

    def do_POST(self):
        length, sha = self.read_body()
        self.send_small(200, json.dumps({"length": length, "sha256": sha}) + "\n", "application/json")

    do_PUT = do_POST


class BackendServer(ThreadingHTTPServer):
    daemon_threads = True
    # listen() backlog (socketserver's default is 5): tests send bursts of
    # concurrent requests, and a dropped SYN is retried only a second later.
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--root", default=".")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)...")
    ap.add_argument("--tls-key", help="...and this key (PEM)")
    args = ap.parse_args()
    Handler.root = os.path.abspath(args.root)
    server = BackendServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # the handshake happens in the handler thread, at the first read
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
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
