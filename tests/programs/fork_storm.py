#!/usr/bin/env python3
"""Forks while other threads trace: three threads keep making HTTP requests
(spans being recorded, queued and exported all the time) while the main
thread forks children that each make one request of their own and exit
normally (so their shim flushes).

  fork_storm.py BACKEND_PORT CHILDREN

Prints "children=N hung=H parent_requests=R"; exits 1 if a child did not
finish within 20 s (it is then killed): a lock held at fork time that the
child waits for forever."""
import http.client
import os
import sys
import threading
import time

port = int(sys.argv[1])
children = int(sys.argv[2])
stop = threading.Event()
made = [0]


def get(ident):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/status/200?id=%s" % ident)
    conn.getresponse().read()
    conn.close()


def hammer():
    while not stop.is_set():
        get("parent")
        made[0] += 1


threads = [threading.Thread(target=hammer) for _ in range(3)]
for t in threads:
    t.start()
time.sleep(0.2)
pids = []
for i in range(children):
    pid = os.fork()
    if pid == 0:
        try:
            get("child%d" % i)
            code = 0
        except Exception as e:  # noqa: BLE001 - report, whatever it is
            print("child %d: %r" % (i, e), file=sys.stderr)
            code = 1
        sys.stdout.flush()
        # a normal exit: atexit handlers run, the shim flushes
        sys.exit(code)
    pids.append(pid)
    time.sleep(0.02)

hung = 0
failed = 0
deadline = time.monotonic() + 20
for pid in pids:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            failed += os.waitstatus_to_exitcode(status) != 0
            break
        if time.monotonic() > deadline:
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.01)
stop.set()
for t in threads:
    t.join()
print("children=%d hung=%d failed=%d parent_requests=%d" % (len(pids), hung, failed, made[0]))
sys.exit(1 if hung or failed else 0)
