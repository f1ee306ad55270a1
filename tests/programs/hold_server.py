#!/usr/bin/env python3
"""An upstream that never answers: it reads each request head, appends
"<request line>" to --out (so a test knows the request is in flight) and
holds the connection open until the peer closes it.

  hold_server.py --port 0 --ready-file F --out FILE"""

import argparse
import os
import socket
import threading


def serve(conn, out):
    head = b""
    while b"\r\n\r\n" not in head:
        data = conn.recv(65536)
        if not data:
            return
        head += data
    with open(out, "a") as f:
        f.write(head.split(b"\r\n", 1)[0].decode("latin-1") + "\n")
    while conn.recv(65536):
        pass
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", args.port))
    s.listen(64)
    with open(args.ready_file + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(args.ready_file + ".tmp", args.ready_file)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, args.out), daemon=True).start()


if __name__ == "__main__":
    main()
