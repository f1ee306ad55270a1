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

    patches = {"aiohttp.web_app": patch_web_app, "aiohttp.client": patch_client}

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
            except Exception:  # noqa: BLE001 - an unknown aiohttp: no hint
                pass

    class Finder:
        """Patches the aiohttp modules above as they are imported."""

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
