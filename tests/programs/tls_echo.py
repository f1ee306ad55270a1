#!/usr/bin/env python3
"""A non-HTTP protocol over TLS (Python's ssl module), to show the shim leaves
such sessions alone.

  tls_echo.py server CERT KEY READY_FILE
      accepts one connection, sends the banner "220 ready\\r\\n", then echoes
      every byte back until the client closes.
  tls_echo.py client CA PORT
      reads the banner, sends a line-based greeting that starts with capital
      letters like an HTTP request would, then 1 MiB of binary data; checks
      that the echo is byte-identical. Prints "echo ok" and exits 0, else 1.
"""
import os
import socket
import ssl
import sys


def server(cert, key, ready):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lsock = socket.create_server(("127.0.0.1", 0))
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(ready + ".tmp", ready)
    conn, _ = lsock.accept()
    tls = ctx.wrap_socket(conn, server_side=True)
    tls.sendall(b"220 ready\r\n")
    while True:
        data = tls.recv(65536)
        if not data:
            break
        tls.sendall(data)
    tls.close()


def client(ca, port):
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            banner = b""
            while not banner.endswith(b"\r\n"):
                banner += tls.recv(1)
            payload = b"EHLO client.test\r\nMAIL FROM:<a@b>\r\n\r\n" + os.urandom(1 << 20)
            tls.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                got += chunk
    if banner == b"220 ready\r\n" and got == payload:
        print("echo ok")
        return 0
    print("echo differs: banner %r, %d of %d bytes, equal prefix %s" % (
        banner, len(got), len(payload), got == payload[:len(got)]))
    return 1


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(*sys.argv[2:5])
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3])))
