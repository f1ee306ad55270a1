"""The python row of scripts/bench-cpu.bash: a hello-world HTTP/1.1 server
of the standard library, a thread per connection (ThreadingHTTPServer),
keep-alive.

    python3 hello_server.py PORT
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"hello\n"


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go in two writes: without this, Nagle holds the body
    # back for the client's delayed ACK (40 ms a request)
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the load generator resets its connections at its end


Server(("127.0.0.1", int(sys.argv[1])), Hello).serve_forever()
