#!/usr/bin/env python3
"""Sends raw bytes to an HTTP server on one connection and reads the answers:
for request shapes no ordinary client produces on demand (pipelined heads in
one write, a head one byte per send(), heads beyond the shim's parse bound,
HTTP/1.0 without Host).

  raw_client.py PORT FILE [--bytewise] [--responses N]

Sends FILE's bytes to 127.0.0.1:PORT (in one sendall, or one byte per send()
with --bytewise), then reads N responses (default 1; Content-Length framed),
printing each status line. Exit status 0 if all N arrived, 1 otherwise.
"""
import argparse
import socket
import sys


def read_response(sock, buf):
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            return None, buf
        rest += data
    return head.split(b"\r\n")[0].decode("latin-1"), rest[length:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("file")
    ap.add_argument("--bytewise", action="store_true")
    ap.add_argument("--responses", type=int, default=1)
    args = ap.parse_args()
    with open(args.file, "rb") as f:
        payload = f.read()
    sock = socket.create_connection(("127.0.0.1", args.port))
    if args.bytewise:
        for i in range(len(payload)):
            sock.send(payload[i:i + 1])
    else:
        sock.sendall(payload)
    buf = b""
    for _ in range(args.responses):
        status, buf = read_response(sock, buf)
        if status is None:
            print("connection ended early", file=sys.stderr)
            return 1
        print(status)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
