#!/usr/bin/env python3
"""A stand-in for the few curl features the integration tests use, for runs
where curl itself cannot be traced: Debian's curl links p11-kit (through
GnuTLS), whose start-up corrupts glibc's locale lock when libasan is
preloaded, so curl hangs before main in the sanitizer pass whatever the
shim does. The test helper substitutes this client there, and only there.

Supported: URLs (several share one keep-alive connection, as with curl),
-s -S -sS -q, -o FILE (for the next URL), -w FORMAT (after each transfer;
%{http_code} %{num_connects} %{local_port} and \\n), -A AGENT,
-H "Name: value" ("Name:" removes a default header), --data-binary @FILE
(POST), -I (HEAD, headers printed), -X METHOD, https URLs with --cacert FILE
or -k, --http1.1 (a no-op). Exit status 0, or 7 when
the connection fails, like curl.
"""
import http.client
import sys
import urllib.parse


def parse(argv):
    opts = {"agent": "curl/7.88.1", "headers": [], "data": None, "head": False, "method": None, "write_out": ""}
    transfers = []
    pending_output = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-s", "-S", "-sS", "-Ss", "-q", "--silent", "--show-error"):
            pass
        elif a == "-o":
            i += 1
            pending_output = argv[i]
        elif a == "-w":
            i += 1
            opts["write_out"] = argv[i]
        elif a == "-A":
            i += 1
            opts["agent"] = argv[i]
        elif a == "-H":
            i += 1
            opts["headers"].append(argv[i])
        elif a == "--data-binary":
            i += 1
            opts["data"] = argv[i]
        elif a == "-I":
            opts["head"] = True
        elif a == "-X":
            i += 1
            opts["method"] = argv[i]
        elif a == "--cacert":
            i += 1
            opts["cacert"] = argv[i]
        elif a in ("-k", "--insecure"):
            opts["insecure"] = True
        elif a == "--http1.1":
            pass
        elif a.startswith("-"):
            sys.exit("mini_curl: unsupported option %s" % a)
        else:
            transfers.append((a, pending_output))
            pending_output = None
        i += 1
    return opts, transfers


def request_headers(opts, url):
    headers = {"Host": url.netloc, "User-Agent": opts["agent"], "Accept": "*/*"}
    for h in opts["headers"]:
        name, _, value = h.partition(":")
        name, value = name.strip(), value.strip()
        for existing in list(headers):
            if existing.lower() == name.lower():
                del headers[existing]
        if value:
            headers[name] = value
    return headers


def write_out(fmt, values):
    out = fmt.replace("\\n", "\n")
    for key, value in values.items():
        out = out.replace("%{" + key + "}", str(value))
    sys.stdout.write(out)


def main():
    opts, transfers = parse(sys.argv[1:])
    body = None
    if opts["data"] is not None:
        data = opts["data"]
        body = open(data[1:], "rb").read() if data.startswith("@") else data.encode()
    method = opts["method"] or ("HEAD" if opts["head"] else ("POST" if body is not None else "GET"))
    conn = None
    conn_key = None
    local_port = 0
    for raw_url, output in transfers:
        url = urllib.parse.urlsplit(raw_url)
        key = (url.hostname, url.port or 80)
        connects = 0
        if conn is None or conn_key != key:
            if conn is not None:
                conn.close()
            if url.scheme == "https":
                import ssl
                ctx = ssl.create_default_context(cafile=opts.get("cacert"))
                if opts.get("insecure"):
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                conn = http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=30, context=ctx)
            else:
                conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
            conn_key = key
            try:
                conn.connect()
            except OSError as e:
                sys.stderr.write("mini_curl: (7) Failed to connect: %s\n" % e)
                return 7
            connects = 1
            local_port = conn.sock.getsockname()[1]
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        headers = request_headers(opts, url)
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            headers["Content-Length"] = str(len(body))
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        content = resp.read()
        sink = open(output, "wb") if output and output != "/dev/null" else None
        if opts["head"]:
            text = "HTTP/%s %d %s\r\n" % ("1.1" if resp.version == 11 else "1.0", resp.status, resp.reason)
            text += "".join("%s: %s\r\n" % kv for kv in resp.getheaders()) + "\r\n"
            content = text.encode("latin-1")
        if sink is not None:
            sink.write(content)
            sink.close()
        elif output != "/dev/null":
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
        write_out(opts["write_out"], {"http_code": resp.status, "num_connects": connects, "local_port": local_port})
        sys.stdout.flush()
        if resp.will_close:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
