#!/usr/bin/env python3
"""Test OTLP/gRPC receiver: the gRPC counterpart of otlp_receiver.py.

grpcio serves the two Export methods with generic handlers that take the
request as raw bytes; they are decoded by otlp_receiver.py's own wire-format
reader and written in its output format, so that the bats helpers
(wait_spans, check_spans, check_metrics, ...) read gRPC exports unchanged.

  otlp_grpc_receiver.py --port PORT --out SPANS_FILE [--mode MODE]
                        [--fail-count N] [--retry-delay SECONDS] [--no-gzip]
                        [--gzip-answers]
                        [--tls-cert C --tls-key K [--tls-client-ca CA]]
                        [--ready-file F]

Output, appended and flushed before each answer (as otlp_receiver.py):
  SPANS_FILE           one JSON object per accepted span
  SPANS_FILE.requests  one JSON object per call: path (the method's),
                       content_type, bytes (the message, decompressed),
                       spans, points, headers (the call's metadata),
                       deadline (seconds left of the grpc-timeout, or
                       null), status (the code answered, a number)
  SPANS_FILE.metrics   one JSON object per accepted metric data point

Modes:
  ok       OK, an empty Export*ServiceResponse
  partial  OK with partial_success (1 item rejected); the items are kept
  a status code name (UNAVAILABLE, INVALID_ARGUMENT, RESOURCE_EXHAUSTED...):
           that status for the first --fail-count calls, then as ok; with
           --retry-delay, the status carries a google.rpc.RetryInfo of that
           many seconds in grpc-status-details-bin
--no-gzip: the server refuses gzip-compressed calls (grpc-encoding: gzip is
answered UNIMPLEMENTED), which tells whether the client compressed.
--gzip-answers: the server compresses its answers' messages (and makes the
partial success's message long enough for that to pay).
"""

import argparse
import json
import os
import signal
import sys
import threading
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import otlp_receiver  # noqa: E402  (the protobuf decoding and the output files)

TRACES = "opentelemetry.proto.collector.trace.v1.TraceService"
METRICS = "opentelemetry.proto.collector.metrics.v1.MetricsService"


def _field_varint(number, value):
    return otlp_receiver.encode_varint(number << 3) + otlp_receiver.encode_varint(value)


def _field_bytes(number, payload):
    return otlp_receiver.encode_varint(number << 3 | 2) + otlp_receiver.encode_varint(len(payload)) + payload


def status_details(code, message, retry_delay):
    """google.rpc.Status{1 code, 2 message, 3 Any{1 type_url, 2 RetryInfo{1 Duration{1 s, 2 ns}}}}"""
    seconds = int(retry_delay)
    nanos = int(round((retry_delay - seconds) * 1e9))
    duration = (_field_varint(1, seconds) if seconds else b"") + (_field_varint(2, nanos) if nanos else b"")
    retry_info = _field_bytes(1, duration)
    any_ = _field_bytes(1, b"type.googleapis.com/google.rpc.RetryInfo") + _field_bytes(2, retry_info)
    return _field_varint(1, code) + _field_bytes(2, message.encode()) + _field_bytes(3, any_)


class GrpcReceiver:
    def __init__(self, args):
        self.args = args
        # otlp_receiver.Receiver keeps the output files and counts failures served
        args.mode_file = None
        self.files = otlp_receiver.Receiver(args)

    def export(self, service, raw, context):
        request = {
            "path": "/%s/Export" % service,
            "content_type": "application/grpc",
            "bytes": len(raw),
            "spans": 0,
            "points": 0,
            "headers": {m.key: m.value for m in context.invocation_metadata()
                        if isinstance(m.value, str)},
            "deadline": context.time_remaining(),
            "mode": self.args.mode,
        }
        spans, points = [], []
        try:
            if service == TRACES:
                spans = otlp_receiver.decode_trace_request(raw)
            else:
                points = otlp_receiver.decode_metrics_request(raw)
        except otlp_receiver.DecodeError as e:
            request["status"] = grpc.StatusCode.INVALID_ARGUMENT.value[0]
            request["error"] = str(e)
            self.files.record(request, [])
            sys.stderr.write("otlp_grpc_receiver: %s: %s\n" % (request["path"], e))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        request["spans"] = len(spans)
        request["points"] = len(points)

        mode = self.args.mode
        if mode not in ("ok", "partial") and self.files.take_failure(mode):
            code = getattr(grpc.StatusCode, mode)
            request["status"] = code.value[0]
            self.files.record(request, [])
            message = "test receiver: %s mode" % mode
            if self.args.retry_delay is not None:
                context.set_trailing_metadata((
                    ("grpc-status-details-bin", status_details(code.value[0], message, self.args.retry_delay)),))
            context.abort(code, message)

        request["status"] = 0
        self.files.record(request, spans, points)
        if self.args.gzip_answers:
            context.set_compression(grpc.Compression.Gzip)
        if mode == "partial":
            message = "test receiver rejected one item"
            if self.args.gzip_answers:
                # long enough for compression to pay: grpc sends a message
                # uncompressed when it does not
                message += ", compressed" * 40
            return otlp_receiver.partial_success_response(1, message)
        return b""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=4317, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--out", required=True, help="spans file (JSON lines)")
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--fail-count", type=int, default=1, help="failures served in a status mode")
    parser.add_argument("--retry-delay", type=float, help="RetryInfo delay (seconds) on failures")
    parser.add_argument("--no-gzip", action="store_true", help="refuse gzip-compressed calls")
    parser.add_argument("--gzip-answers", action="store_true", help="compress the answers' messages")
    parser.add_argument("--ready-file", help="written with the port once listening")
    parser.add_argument("--tls-cert", help="serve TLS with this certificate (PEM)...")
    parser.add_argument("--tls-key", help="...and this key (PEM)")
    parser.add_argument("--tls-client-ca", help="require client certificates signed by this CA (PEM)")
    args = parser.parse_args()
    if args.mode not in ("ok", "partial") and not isinstance(getattr(grpc.StatusCode, args.mode, None),
                                                              grpc.StatusCode):
        parser.error("unknown mode %r" % args.mode)

    receiver = GrpcReceiver(args)
    options = [("grpc.so_reuseport", 0)]
    if args.no_gzip:
        options.append(("grpc.compression_enabled_algorithms_bitset", 1))  # identity only
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=options)
    for service in (TRACES, METRICS):
        handler = grpc.unary_unary_rpc_method_handler(
            lambda raw, context, service=service: receiver.export(service, raw, context),
            request_deserializer=None, response_serializer=None)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {"Export": handler}),))
    address = "%s:%d" % (args.host, args.port)
    if args.tls_cert:
        with open(args.tls_key, "rb") as f:
            key = f.read()
        with open(args.tls_cert, "rb") as f:
            cert = f.read()
        client_ca = None
        if args.tls_client_ca:
            with open(args.tls_client_ca, "rb") as f:
                client_ca = f.read()
        credentials = grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                                  require_client_auth=client_ca is not None)
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    server.start()

    stopped = threading.Event()

    def stop(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready_file:
        otlp_receiver.write_ready_file(args.ready_file, port)
    stopped.wait()
    server.stop(0).wait()


if __name__ == "__main__":
    main()
