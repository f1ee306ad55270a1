#!/usr/bin/env python3
"""An asyncio service on aiohttp (no SDK, no tracing code): GET /id/N calls
the backend with ?id=N through one ClientSession (a keep-alive pool) and
answers "N STATUS". One thread, one event loop.

  loop_service_aiohttp.py BACKEND_URL READY_FILE [--background-ms MS]

--background-ms: a task that calls the backend (?id=bgK) every MS ms, on
behalf of no request."""
import argparse
import asyncio
import os

from aiohttp import ClientSession, TCPConnector, web


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("backend")
    ap.add_argument("ready_file")
    ap.add_argument("--background-ms", type=int, default=0)
    args = ap.parse_args()
    session = ClientSession(connector=TCPConnector(limit=256))

    async def call(ident):
        try:
            async with session.get(args.backend + "/status/200", params={"id": ident}) as r:
                await r.read()
                return r.status
        except Exception as e:  # noqa: BLE001 - the answer says what failed
            return "error %s" % type(e).__name__

    async def handle(request):
        ident = request.match_info["ident"]
        status = await call(ident)
        return web.Response(text="%s %s\n" % (ident, status))

    async def background():
        k = 0
        while True:
            await asyncio.sleep(args.background_ms / 1000)
            k += 1
            await call("bg%d" % k)

    app = web.Application()
    app.router.add_get("/id/{ident}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    with open(args.ready_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.ready_file + ".tmp", args.ready_file)
    if args.background_ms:
        asyncio.get_running_loop().create_task(background())
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
