#!/usr/bin/env python3
"""A load generator: CONNECTIONS threads, each on its own keep-alive
connection, send GET /id/<prefix><n> for n in 1..REQUESTS between them, and
check each answer names its own n. Prints "ok REQUESTS" or what failed.

  concurrent_load.py PORT CONNECTIONS REQUESTS PREFIX"""
import http.client
import sys
import threading


def main():
    port, conns, total, prefix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    nxt = iter(range(1, total + 1))
    lock = threading.Lock()
    bad = []

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                n = next(nxt, None)
            if n is None:
                break
            ident = "%s%d" % (prefix, n)
            try:
                c.request("GET", "/id/" + ident)
                body = c.getresponse().read().decode()
            except (OSError, http.client.HTTPException) as e:
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                body = "error %r" % e
            if not body.startswith(ident + " 200"):
                with lock:
                    bad.append((ident, body))
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if bad:
        print("failed %d: %r" % (len(bad), bad[:5]))
        sys.exit(1)
    print("ok %d" % total)


if __name__ == "__main__":
    main()
