"""otelauto's runtime hint for python (README "Runtime hints").

libotelauto.so puts this directory first on PYTHONPATH, so that python
imports this module at start-up; it runs the sitecustomize it shadows, then
takes its directory off sys.path again.

asyncio runs the handlers of many requests on one thread, so the shim cannot
tell from the thread which request an outgoing call is made for; python
itself knows, through contextvars (a task inherits the context of the code
that created it). While aiohttp's server handles a request, a context
variable holds a placeholder traceparent naming that request by its
connection's file descriptor, its peer port and its number on the
connection; an aiohttp client request made in that context carries it, and
the shim replaces it with its client span's own traceparent, parented to
that request; a request made for none carries a placeholder that says so.
grpcio runs each call's handler on a thread pool, on a thread that read
nothing of it: while grpcio runs a handler (its _call_behavior, and each
step of a streaming response), the variable holds a placeholder naming the
call by its peer's port and the parent id of the traceparent it carried
(the shim finds the HTTP/2 stream). http.client requests (urllib,
requests) made in a context that holds a placeholder carry it too.
No SDK, no spans; a program that sets its own traceparent is
left alone. Without the shim in the process (/proc/self/maps) it does
nothing but run the sitecustomize it shadows."""


def _otelauto_hint():
    import importlib.machinery
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path[:] = rest
    # the sitecustomize this one shadows, if any
    try:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
        if spec is not None and spec.loader is not None:
            shadowed = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(shadowed)
    except Exception:  # noqa: BLE001 - python itself ignores a failing sitecustomize
        pass
    try:
        with open("/proc/self/maps", encoding="latin-1") as f:
            if "libotelauto" not in f.read():
                return
    except OSError:
        return

    import contextvars
    import weakref

    # made for no request (a task started at start-up) by a process that
    # serves aiohttp requests (from its Application's freeze at start-up on):
    # the placeholder that says so, so that the shim does not take one of
    # the requests the thread holds for its parent. A process without an
    # aiohttp server (a client, or a threaded server calling through
    # aiohttp) gets nothing: the thread's rule stands.
    none = "00-%s-%s-00" % ("0" * 32, "0" * 16)
    serving = []
    current = contextvars.ContextVar("otelauto_hint", default=None)
    counts = weakref.WeakKeyDictionary()  # transport -> requests handled on it

    def placeholder(request):
        transport = request.transport
        if transport is None:
            return None
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        fd = sock.fileno() if sock is not None else -1
        if not 0 <= fd <= 0xFFFFFF or not isinstance(peer, tuple) or len(peer) < 2:
            return None
        n = counts.get(transport, 0) + 1
        counts[transport] = n
        return "00-%s-%06x%04x%06x-00" % ("0" * 32, fd, peer[1] & 0xFFFF, n & 0xFFFFFF)

    def patch_web_app(module):
        handle = module.Application._handle

        async def _handle(self, request):
            if not serving:
                serving.append(True)
            try:
                value = placeholder(request)
            except Exception:  # noqa: BLE001 - no hint rather than a changed program
                value = None
            if value is None:
                return await handle(self, request)
            token = current.set(value)
            try:
                return await handle(self, request)
            finally:
                current.reset(token)

        module.Application._handle = _handle
        freeze = module.Application.freeze

        def freeze_(self):
            # a server is about to run (AppRunner.setup): from now on a call
            # made for no request says so
            if not serving:
                serving.append(True)
            return freeze(self)

        module.Application.freeze = freeze_

    def has_traceparent(headers):
        if not headers:
            return False
        keys = headers.keys() if hasattr(headers, "keys") else (k for k, _ in headers)
        return any(str(k).lower() == "traceparent" for k in keys)

    def patch_client(module):
        request = module.ClientSession._request

        def _request(self, method, str_or_url, **kwargs):
            value = current.get() or (none if serving else None)
            if value:
                headers = kwargs.get("headers")
                if not has_traceparent(headers) and not has_traceparent(getattr(self, "_default_headers", None)):
                    merged = module.CIMultiDict(headers or {})
                    merged["traceparent"] = value
                    kwargs["headers"] = merged
            return request(self, method, str_or_url, **kwargs)

        module.ClientSession._request = _request

    # grpcio (grpc._server): the peer is "ipv4:127.0.0.1:PORT" or
    # "ipv6:[::1]:PORT"; the traceparent, when the call carried one valid
    # in form, gives the low 39 bits of its parent id, marked (README
    # "Runtime hints"); without one, 0: the connection's only open call.
    parent_bits = 39
    lower_hex = frozenset("0123456789abcdef")

    def parent_id(value):
        """The parent id of a traceparent of W3C form (any version), or None."""
        v = value.strip(" \t")
        if len(v) < 55 or (len(v) > 55 and v[55] != "-") or v[2] != "-" or v[35] != "-" or v[52] != "-":
            return None
        if not lower_hex.issuperset(v[0:2] + v[3:35] + v[36:52] + v[53:55]):
            return None
        return int(v[36:52], 16)

    def grpc_placeholder(rpc_event):
        peer = rpc_event.call.peer()
        if isinstance(peer, bytes):
            peer = peer.decode("latin-1")
        if not peer.startswith(("ipv4:", "ipv6:")):
            return None
        port = int(peer.rsplit(":", 1)[1])
        if not 0 < port <= 0xFFFF:
            return None
        carried = [v for k, v in (rpc_event.invocation_metadata or ()) if k == "traceparent"]
        d = 0
        p = parent_id(carried[0]) if len(carried) == 1 and isinstance(carried[0], str) else None
        if p is not None:
            d = (p & ((1 << parent_bits) - 1)) | 1 << parent_bits
        return "00-%s-ff%04x%010x-00" % ("0" * 32, port, d)

    def in_call_context(run):
        def run_(rpc_event, *args, **kwargs):
            try:
                value = grpc_placeholder(rpc_event)
            except Exception:  # noqa: BLE001 - no hint rather than a changed program
                value = None
            if value is None:
                return run(rpc_event, *args, **kwargs)
            token = current.set(value)
            try:
                return run(rpc_event, *args, **kwargs)
            finally:
                current.reset(token)

        return run_

    def patch_grpc_server(module):
        # both take the call's event first and run on the pool's thread:
        # the handler, and each step of a streaming response's iterator
        for name in ("_call_behavior", "_take_response_from_response_iterator"):
            run = getattr(module, name, None)
            if callable(run):
                setattr(module, name, in_call_context(run))

    def patch_http_client(module):
        endheaders = module.HTTPConnection.endheaders

        def endheaders_(self, *args, **kwargs):
            value = current.get()
            if value:
                try:
                    lines = self._buffer[1:]
                    if not any(bytes(line[:12]).lower() == b"traceparent:" for line in lines):
                        self.putheader("traceparent", value)
                except Exception:  # noqa: BLE001 - the original says what is wrong
                    pass
            return endheaders(self, *args, **kwargs)

        module.HTTPConnection.endheaders = endheaders_

    patches = {
        "aiohttp.web_app": patch_web_app,
        "aiohttp.client": patch_client,
        "grpc._server": patch_grpc_server,
        "http.client": patch_http_client,
    }
    for name in [n for n in patches if n in sys.modules]:
        try:
            patches.pop(name)(sys.modules[name])
        except Exception:  # noqa: BLE001 - an unknown version: no hint
            pass

    class PatchingLoader:
        def __init__(self, loader, patch):
            self.loader = loader
            self.patch = patch

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            self.loader.exec_module(module)
            try:
                self.patch(module)
            except Exception:  # noqa: BLE001 - an unknown version: no hint
                pass

    class Finder:
        """Patches the modules above as they are imported."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            patch = patches.get(name)
            if patch is None:
                return None
            for finder in sys.meta_path:
                if isinstance(finder, Finder) or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = PatchingLoader(spec.loader, patch)
                    return spec
            return None

    sys.meta_path.insert(0, Finder())


_otelauto_hint()
del _otelauto_hint
