#!/usr/bin/env python3
"""An HTTP/1.1 server on raw sockets that records every request exactly as it
arrived, so tests can see what the shim did to the bytes on the wire
(how many traceparent lines, whether the head is intact, whether the body is
complete).

  recording_server.py --port 0 --ready-file F --out RECORDS

Appends one JSON line per request to RECORDS:
  {"head": "<request head, latin-1, without the final CRLF CRLF>",
   "traceparent": [values of every traceparent header line],
   "body_length": N, "body_sha256": "...", "peer_port": P}
and answers 200 with the body "received N\\n". Answers Expect: 100-continue.
Keeps the connection open unless the request says "Connection: close".
With --tls-cert/--tls-key it speaks HTTPS.
"""
import argparse
import hashlib
import json
import os
import socketserver
import sys
import threading

records_lock = threading.Lock()
records_path = None


class ConnectionGone(Exception):
    pass


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(256 * 1024)
        if not data:
            raise ConnectionGone()
        self.buf += data

    def until(self, marker):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(marker):]
                return out
            self.fill()

    def exactly(self, n, sink):
        while n > 0:
            if not self.buf:
                self.fill()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            sink(take)
            n -= len(take)


def header_values(lines, name):
    out = []
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name:
            out.append(value.strip())
    return out


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        reader = Reader(self.request)
        try:
            while self.one_request(reader):
                pass
        except (ConnectionGone, ConnectionResetError, BrokenPipeError):
            pass

    def one_request(self, reader):
        head = reader.until(b"\r\n\r\n")
        text = head.decode("latin-1")
        lines = text.split("\r\n")[1:]
        digest = hashlib.sha256()
        length = [0]

        def sink(data):
            digest.update(data)
            length[0] += len(data)

        if any(v.lower() == "100-continue" for v in header_values(lines, "expect")):
            self.request.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if any(v.lower() == "chunked" for v in header_values(lines, "transfer-encoding")):
            while True:
                size = int(reader.until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    while reader.until(b"\r\n") != b"":
                        pass
                    break
                reader.exactly(size, sink)
                reader.until(b"\r\n")
        else:
            cl = header_values(lines, "content-length")
            reader.exactly(int(cl[0]) if cl else 0, sink)

        record = {
            "head": text,
            "traceparent": header_values(lines, "traceparent"),
            "body_length": length[0],
            "body_sha256": digest.hexdigest(),
            "peer_port": self.client_address[1],
        }
        with records_lock:
            with open(records_path, "a") as f:
                f.write(json.dumps(record) + "\n")

        body = b"received %d\n" % length[0]
        close = any(v.lower() == "close" for v in header_values(lines, "connection"))
        response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s" % (
            len(body), b"Connection: close\r\n" if close else b"", body)
        self.request.sendall(response)
        return not close


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global records_path
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tls-cert", help="speak HTTPS with this certificate (PEM)...")
    ap.add_argument("--tls-key", help="...and this key (PEM)")
    args = ap.parse_args()
    records_path = args.out
    open(records_path, "a").close()
    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
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
