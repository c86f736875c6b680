"""A TCP proxy that holds every request for a fixed time before passing it on: the round trip to AWS
(about 15 ms from a Lambda function to a regional endpoint) in front of the local sandbox.

    python benchmarks/latency_proxy.py --listen 5090 --to 127.0.0.1:5071 --delay-ms 15

Each chunk a client sends is forwarded `delay` after it arrived, in order; answers come back at once.
So each call (request then response) takes `delay` longer, and calls on different connections overlap
as they would against AWS.
"""

from __future__ import annotations

import argparse
import asyncio
import time


async def pipe_delayed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def forward() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    forwarding = asyncio.create_task(forward())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((0.0, b""))
    await forwarding


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def serve(listen: int, host: str, port: int, delay: float) -> None:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe_delayed(client_reader, server_writer, delay),
            pipe(server_reader, client_writer),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=256)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--to", required=True, help="host:port of the sandbox")
    parser.add_argument("--delay-ms", type=float, default=15.0)
    args = parser.parse_args()
    host, port = args.to.rsplit(":", 1)
    asyncio.run(serve(args.listen, host, int(port), args.delay_ms / 1000))


if __name__ == "__main__":
    main()
