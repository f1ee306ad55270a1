"""What idle keep-alive connections cost an HTTP server, read from its memory.

    idle_connections.py PORT PID N PATH

Two phases against the server at 127.0.0.1:PORT (process PID):
  1. base: N requests one after the other on one keep-alive connection (a
     new one if the server closes it), then that connection is closed. This
     touches whatever the requests themselves cost the server (for a traced
     one: its span pools and queue), but no more connections.
  2. idle: N connections opened one after the other, one request each,
     answered, and kept open: N idle keep-alive connections.
VmRSS of PID is read after each phase. Prints "base_kb=B idle_kb=I" and
exits 0 if every request got a 200 answer. The connections are closed at
the end.
"""
import resource
import socket
import sys


def request(sock, path):
    """Sends one GET and reads its Content-Length framed answer: True if it
    is a 200 and the connection stays open."""
    sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: idle\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if lines[0].split(b" ")[1] != b"200":
        raise ValueError("not 200: %r" % lines[0])
    length = 0
    keep = True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            keep = False
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return keep


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def connect(port):
    return socket.create_connection(("127.0.0.1", port))


def main():
    port, pid, n, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sock = connect(port)
    for _ in range(n):
        if not request(sock, path):
            sock.close()
            sock = connect(port)
    sock.close()
    base = rss_kb(pid)

    idle = []
    for _ in range(n):
        s = connect(port)
        if not request(s, path):
            raise ValueError("the server closed a keep-alive connection")
        idle.append(s)
    print("base_kb=%d idle_kb=%d" % (base, rss_kb(pid)), flush=True)
    for s in idle:
        s.close()


if __name__ == "__main__":
    main()
