"""A request's body read whole, up to a bound: what the API, the page forms and the payment
gateways' notices send is small, and a larger one is refused without buffering it."""

from starlette.requests import Request


async def body_at_most(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is longer than `limit` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
