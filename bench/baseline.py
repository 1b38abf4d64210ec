"""The bare baseline the panel's API is measured against (see bench/api.py).

A Starlette app with no database and no logic, served by uvicorn exactly as `smmpanel serve`
serves the panel (one process, uvloop, httptools, no access log, no forwarded headers read):

- `POST /form` parses the form body and returns a small JSON object: the floor for
  `balance`, `status`, multi-status and `add`;
- `POST /services` parses the form body and returns the bytes of the panel's own `services`
  reply, read once at start-up from the file given by --services-file: the cost of moving the
  catalogue's bytes;
- `GET /html/<name>` returns the bytes of `<name>.html` in the directory given by --pages-dir
  (the panel's own pages, saved by bench/pages.py), read once at start-up: the floor for a page.

Run: .venv/bin/python bench/baseline.py --port 8100 --services-file /tmp/services.json
"""

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

SMALL_REPLY = {"status": "success", "balance": "100.84292", "currency": "USD"}


def create_app(services_body: bytes, pages: dict[str, bytes]) -> Starlette:
    async def form(request: Request) -> Response:
        await request.form()
        return JSONResponse(SMALL_REPLY)

    async def services(request: Request) -> Response:
        await request.form()
        return Response(services_body, media_type="application/json")

    async def html(request: Request) -> Response:
        body = pages.get(request.path_params["name"])
        if body is None:
            return Response(status_code=404)
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    return Starlette(
        routes=[
            Route("/form", form, methods=["POST"]),
            Route("/services", services, methods=["POST"]),
            Route("/html/{name}", html),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--services-file", type=Path)
    parser.add_argument("--pages-dir", type=Path)
    args = parser.parse_args()
    services_body = args.services_file.read_bytes() if args.services_file else b"[]"
    pages = (
        {path.stem: path.read_bytes() for path in args.pages_dir.glob("*.html")}
        if args.pages_dir
        else {}
    )
    app = create_app(services_body, pages)
    # The same server settings as smmpanel/http_server.py, with no trusted proxy (the
    # default): uvicorn would otherwise read forwarded headers on every request.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
