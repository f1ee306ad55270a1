"""A gRPC service and client for the HTTP/2 tests (python3-grpcio, no
generated code: methods carry raw bytes).

  grpc_echo.py serve PORT
      demo.Echo/Say       unary: echoes the request
      demo.Echo/Missing   unary: aborts with NOT_FOUND
      demo.Echo/Crash     unary: raises (grpcio answers UNKNOWN)
      demo.Echo/Count     server-streaming: N messages for a request of N
      demo.Echo/Context   unary: the names of the trace-context fields the
                          call carried, sorted, comma-separated
  grpc_echo.py call PORT METHOD [ARG]
      one call; prints the reply (or each streamed one) and the status code
"""
import sys
from concurrent import futures

import grpc


def say(request, context):
    return request


def missing(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")


def crash(request, context):
    raise RuntimeError("handler failed")


def count(request, context):
    for i in range(int(request.decode() or "0")):
        yield b"item %d" % i


def context_fields(request, context):
    names = {"traceparent", "tracestate", "baggage", "b3", "uber-trace-id"}
    got = sorted(k for k, _ in context.invocation_metadata() if k in names or k.startswith(("x-b3-", "uberctx-")))
    return ",".join(got).encode()


def serve(port):
    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Missing": grpc.unary_unary_rpc_method_handler(missing),
        "Crash": grpc.unary_unary_rpc_method_handler(crash),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Context": grpc.unary_unary_rpc_method_handler(context_fields),
    }
    big = 64 * 1024 * 1024
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_send_message_length", big), ("grpc.max_receive_message_length", big)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("demo.Echo", handlers),))
    server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


def call(port, method, arg):
    with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
        path = "/demo.Echo/" + method
        try:
            if method == "Count":
                for reply in ch.unary_stream(path)(arg.encode(), timeout=20):
                    print(reply.decode())
            else:
                print(ch.unary_unary(path)(arg.encode(), timeout=20).decode())
            print("status OK")
        except grpc.RpcError as e:
            print("status", e.code().name)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        call(int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
