"""The bare baseline the panel's API is measured against (see bench/api.py).

A Starlette app with no database and no logic, served by uvicorn exactly as `smmpanel serve`
serves the panel (one process, uvloop, httptools, no access log):

- `POST /form` parses the form body and returns a small JSON object: the floor for
  `balance`, `status`, multi-status and `add`;
- `POST /services` parses the form body and returns the bytes of the panel's own `services`
  reply, read once at start-up from the file given by --services-file: the cost of moving the
  catalogue's bytes.

Run: .venv/bin/python bench/baseline.py --port 8100 --services-file /tmp/services.json
"""

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SMALL_REPLY = {"status": "success", "balance": "100.84292", "currency": "USD"}


def create_app(services_body: bytes) -> Starlette:
    async def form(request: Request) -> Response:
        await request.form()
        return JSONResponse(SMALL_REPLY)

    async def services(request: Request) -> Response:
        await request.form()
        return Response(services_body, media_type="application/json")

    return Starlette(
        routes=[
            Route("/form", form, methods=["POST"]),
            Route("/services", services, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--services-file", type=Path, required=True)
    args = parser.parse_args()
    app = create_app(args.services_file.read_bytes())
    # The same server settings as smmpanel/cli/server.py.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
