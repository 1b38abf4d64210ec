"""Raw HTTP on a socket, for what an HTTP client library will not send: unknown methods,
endless headers, requests that stop half-way."""

import socket


def exchange(port: int, request: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes to a server on loopback, then read its answer until it hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)
