#!/usr/bin/env python3
"""A one-request forwarding proxy on raw sockets that sends the forwarded
head in two buffers of one sendmsg call, split in the middle of the
traceparent value it forwards: the shim's replacement of that value must
follow the split.

  split_forwarder.py --ready-file F --upstream PORT

Reads one request head from its client, forwards it unchanged (same bytes,
Connection: close) to 127.0.0.1:PORT, relays the answer, and exits."""
import argparse
import os
import socket
import sys


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--upstream", type=int, required=True)
    args = ap.parse_args()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    with open(args.ready_file + ".tmp", "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    os.rename(args.ready_file + ".tmp", args.ready_file)
    client, _ = listener.accept()
    head = read_head(client)
    lines = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    kept = [l for l in lines if not l.lower().startswith((b"connection:", b"host:"))]
    forwarded = b"\r\n".join(kept[:1] + [b"Host: upstream", b"Connection: close"] + kept[1:]) + b"\r\n\r\n"
    cut = forwarded.lower().index(b"traceparent: ") + len(b"traceparent: ") + 20
    up = socket.create_connection(("127.0.0.1", args.upstream))
    sent = up.sendmsg([forwarded[:cut], forwarded[cut:]])
    if sent < len(forwarded):
        up.sendall(forwarded[sent:])
    answer = b""
    while True:
        chunk = up.recv(65536)
        if not chunk:
            break
        answer += chunk
    up.close()
    client.sendall(answer)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
