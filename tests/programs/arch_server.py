#!/usr/bin/env python3
"""Server architectures for the integration tests (standard library only).
Nothing in it knows about tracing: each shape is what real services do.

  arch_server.py MODE --ready-file F --backend URL [options]

GET /call/ID makes one downstream request, BACKEND/status/200?id=ID, and
answers with the process id that served it. Modes:

  threads   ThreadingHTTPServer, one thread per connection. --barrier N:
            each handler waits until N requests are in flight before its
            call, so that they really overlap.
  asyncio   one thread, one asyncio event loop, the downstream call made with
            asyncio streams. GET /call/ID?overlap=N: the handler waits until
            N requests have been read (all then in flight on the one thread)
            before its call.
  prefork   gunicorn-style: listens, makes a call of its own
            (id=prefork, its span still queued), then forks --workers N
            processes that accept on the inherited socket; a worker exits
            on SIGTERM, the master when its workers are gone.
  spawn     ThreadingHTTPServer. GET /spawn/HOW?id=ID runs --child ARGV...
            followed by BACKEND/status/200?id=ID in a child process started
            by HOW: subprocess (vfork+exec), system, posix_spawn, forkexec
            (os.fork then os.execv). GET /env/HOW runs `env` the same way
            and answers with what it printed. At start-up (outside any
            request) `env` runs once into --startup-env FILE.
"""
import argparse
import asyncio
import http.client
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

ARGS = None


def call_backend(ident):
    """One blocking downstream request on a connection of its own."""
    url = urllib.parse.urlsplit(ARGS.backend)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    try:
        conn.request("GET", "/status/200?id=%s" % ident)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    barrier = None

    def log_message(self, format, *args):  # noqa: A002 - http.server's name
        pass

    def answer(self, code, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = urllib.parse.parse_qs(url.query)
        if parts[0] == "call" and len(parts) == 2:
            if self.barrier is not None:
                self.barrier.wait(timeout=30)
            if ARGS.delay_ms:
                time.sleep(ARGS.delay_ms / 1000.0)
            status = call_backend(parts[1])
            self.answer(200, "%s %d %d\n" % (parts[1], status, os.getpid()))
        elif parts[0] in ("spawn", "env") and len(parts) == 2:
            if parts[0] == "spawn":
                argv = ARGS.child + ["%s/status/200?id=%s" % (ARGS.backend, query.get("id", ["x"])[0])]
            else:
                argv = ["/usr/bin/env"]
            code, out = run_child(parts[1], argv)
            self.answer(200 if code == 0 else 500, out)
        else:
            self.answer(404, "no such route\n")


def run_child(how, argv):
    """Runs argv in a child started the HOW way; returns (status, output)."""
    if how == "subprocess":
        r = subprocess.run(argv, stdout=subprocess.PIPE, timeout=30)
        return r.returncode, r.stdout
    out_path = "%s.%d.%d" % (ARGS.scratch, os.getpid(), threading.get_ident())
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.set_inheritable(fd, True)
    try:
        if how == "system":
            status = os.system("%s >&%d" % (shlex.join(argv), fd))
        elif how == "posix_spawn":
            pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, fd, 1)])
            status = os.waitpid(pid, 0)[1]
        elif how == "forkexec":
            pid = os.fork()
            if pid == 0:
                try:
                    os.dup2(fd, 1)
                    os.execv(argv[0], argv)
                finally:
                    os._exit(127)
            status = os.waitpid(pid, 0)[1]
        else:
            return 2, b"unknown way to start a child\n"
    finally:
        os.close(fd)
    with open(out_path, "rb") as f:
        out = f.read()
    os.unlink(out_path)
    return os.waitstatus_to_exitcode(status), out


def ready(port):
    tmp = ARGS.ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, ARGS.ready_file)


class ThreadsServer(ThreadingHTTPServer):
    daemon_threads = True
    # A class attribute: the constructor calls listen() with it. Set on the
    # instance afterwards it changes nothing, and socketserver's backlog of 5
    # drops the SYNs of a burst of connections; their retries (1, 3, 7, 15,
    # 31 s later) then miss --barrier's 30 s.
    request_queue_size = 128


def serve_threads():
    if ARGS.barrier:
        Handler.barrier = threading.Barrier(ARGS.barrier)
    server = ThreadsServer(("127.0.0.1", 0), Handler)
    if ARGS.mode == "spawn" and ARGS.startup_env:
        with open(ARGS.startup_env, "wb") as f:
            subprocess.run(["/usr/bin/env"], stdout=f, check=True)
    ready(server.server_address[1])
    server.serve_forever()


# ---- asyncio: one thread, requests interleaved on one event loop ----

async def serve_asyncio():
    url = urllib.parse.urlsplit(ARGS.backend)
    heads_read = 0
    progress = asyncio.Condition()

    async def call(ident):
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(("GET /status/200?id=%s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
                      % (ident, url.hostname, url.port)).encode())
        await writer.drain()
        data = await reader.read()
        writer.close()
        return int(data.split(b" ", 2)[1])

    async def handle(reader, writer):
        nonlocal heads_read
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            target = head.split(b" ", 2)[1].decode()
            async with progress:
                heads_read += 1
                progress.notify_all()
            u = urllib.parse.urlsplit(target)
            ident = u.path.rsplit("/", 1)[-1]
            overlap = int(urllib.parse.parse_qs(u.query).get("overlap", ["0"])[0])
            async with progress:
                await asyncio.wait_for(progress.wait_for(lambda: heads_read >= overlap), 20)
            status = await call(ident)
            body = ("%s %d %d\n" % (ident, status, os.getpid())).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


# ---- prefork: workers forked after start-up share the listening socket ----

def serve_prefork():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    # a span of the master's own, queued when the workers are forked: it
    # must reach the collector once, from the master
    call_backend("prefork")
    # a master sets up for a while before it forks; here this also lets the
    # shim's exporter thread, started by that first span, finish starting
    # (the ASan runtime of gcc 12 cannot fork while a thread is inside its
    # allocator: the child would hang, shim or not)
    time.sleep(0.5)
    workers = []
    for _ in range(ARGS.workers):
        pid = os.fork()
        if pid == 0:
            sys.exit(worker(sock))
        workers.append(pid)
    with open(ARGS.ready_file + ".workers", "w") as f:
        f.write(" ".join(str(p) for p in workers) + "\n")
    ready(sock.getsockname()[1])

    def stop(signum, frame):
        for p in workers:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, stop)
    for p in workers:
        while True:
            try:
                status = os.waitpid(p, 0)[1]
                print("worker %d: exit status %d" % (p, os.waitstatus_to_exitcode(status)), file=sys.stderr)
                break
            except InterruptedError:
                continue
    return 0


def worker(sock):
    server = HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket.close()
    # every worker wakes up for a new connection and one wins it: the
    # others must not block in accept(), or they could not stop
    sock.setblocking(False)
    server.socket = sock
    server.timeout = 0.05
    stopping = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    while not stopping:
        server.handle_request()
    return 0


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["threads", "asyncio", "prefork", "spawn"])
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--backend", required=True)
    ap.add_argument("--barrier", type=int, default=0)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", default="curl -sS", help="the command a spawned child runs (split like a shell)")
    ap.add_argument("--startup-env", default="")
    ap.add_argument("--scratch", default="/tmp/arch_server.out")
    ARGS = ap.parse_args()
    ARGS.backend = ARGS.backend.rstrip("/")
    ARGS.child = shlex.split(ARGS.child)
    if ARGS.child and not ARGS.child[0].startswith("/"):
        import shutil
        ARGS.child[0] = shutil.which(ARGS.child[0]) or ARGS.child[0]
    try:
        if ARGS.mode == "asyncio":
            asyncio.run(serve_asyncio())
        elif ARGS.mode == "prefork":
            return serve_prefork()
        else:
            serve_threads()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
