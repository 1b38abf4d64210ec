"""The catalogue file on the operator's pages: downloaded, then imported after a preview."""

import asyncio
import json
import re
from datetime import UTC, datetime

import httpx
from page_client import PageClient, csrf_token, text_of, unique
from raw_http import exchange
from sqlalchemy import func, select

from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.catalog.models import services
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import parse, to_micros

TRANSFER = "/admin/catalog/transfer"
DIGEST_INPUT = re.compile(r'name="digest" value="([0-9a-f]{64})"')


async def category_with_service(db) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A category of its own holding one service at 1.00; (its name, the service's id)."""
    name = unique("Transfer")
    async with db.write() as conn:
        category_id = await category_id_for(conn, name)
        service_id = await create_service(
            conn,
            category_id,
            name=unique("svc"),
            type="Default",
            rate=to_micros(parse("1")),
            min_quantity=10,
            max_quantity=1000,
        )
    return name, service_id


async def exported(operator: PageClient) -> dict:
    response = await operator.get("/admin/catalog/export.json")
    assert response.status_code == 200
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="catalog-{today}.json"'
    )
    return response.json()


def only_category(document: dict, name: str) -> dict:
    return {"categories": [c for c in document["categories"] if c["name"] == name]}


async def upload(operator: PageClient, content: bytes) -> httpx.Response:
    token = csrf_token(await operator.page(TRANSFER))
    files = {"file": ("catalog.json", content, "application/json")}
    return await operator.http.post(
        "/admin/catalog/import", data={"csrf_token": token}, files=files
    )


async def confirm(operator: PageClient, preview: str) -> httpx.Response:
    digest = DIGEST_INPUT.search(preview)
    assert digest, "the preview has no confirm form"
    fields = {"digest": digest.group(1), "confirm": "1"}
    return await operator.submit("/admin/catalog/import", fields, page=TRANSFER)


async def rate_of(db, service_id: int) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return await conn.scalar(select(services.c.rate).where(services.c.id == service_id))


async def new_service_id(db) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return (await conn.scalar(select(func.max(services.c.id)))) + 1000


async def test_an_exported_category_changed_and_imported_shows_its_changes_then_applies_them(
    operator, db
):
    category, service_id = await category_with_service(db)
    catalogue = await operator.page("/admin/catalog")
    assert 'href="/admin/catalog/transfer"' in catalogue
    document = only_category(await exported(operator), category)
    unchanged = await upload(operator, json.dumps(document).encode())
    assert unchanged.status_code == 200, unchanged.text[:500]
    said = text_of(unchanged.text)
    assert "New services: 0" in said and "Services changed: 0" in said
    assert "left as they are: 1" in said

    services_ = document["categories"][0]["services"]
    services_[0]["rate"] = "1.5"
    added_id = await new_service_id(db)
    added_name = unique("added")
    services_.append({**services_[0], "id": added_id, "name": added_name, "rate": "2"})
    preview = await upload(operator, json.dumps(document).encode())
    assert preview.status_code == 200, preview.text[:500]
    said = text_of(preview.text)
    assert "New services: 1" in said and "Services changed: 1" in said
    assert added_name in said and "rate: 1 → 1.5" in said
    assert await rate_of(db, service_id) == to_micros(parse("1"))  # a preview writes nothing

    done = await confirm(operator, preview.text)
    page = await operator.follow(done)
    assert "1 new services, 1 updated" in text_of(page)
    assert await rate_of(db, service_id) == to_micros(parse("1.5"))
    assert await rate_of(db, added_id) == to_micros(parse("2"))
    async with db.read() as conn:
        details = list(
            await conn.scalars(
                select(operator_audit.c.detail).where(operator_audit.c.action == "catalog.import")
            )
        )
    assert any(detail.startswith("1 new, 1 updated") for detail in details)


async def test_a_bad_file_is_refused_with_its_problems_and_changes_nothing(operator, db):
    category, service_id = await category_with_service(db)
    document = only_category(await exported(operator), category)
    services_ = document["categories"][0]["services"]
    services_[0]["rate"] = "3"
    services_.append({**services_[0], "id": await new_service_id(db), "min": 50, "max": 5})
    refused = await upload(operator, json.dumps(document).encode())
    assert refused.status_code == 400
    said = text_of(refused.text)
    assert "The file was not imported, nothing changed" in said and "min <= max" in said
    assert await rate_of(db, service_id) == to_micros(parse("1"))

    not_json = await upload(operator, b"{not json")
    assert not_json.status_code == 400 and "not JSON" in text_of(not_json.text)


async def test_a_confirmation_without_its_previewed_file_imports_nothing(operator):
    fields = {"digest": "0" * 64, "confirm": "1"}
    response = await operator.submit("/admin/catalog/import", fields, page=TRANSFER)
    assert response.status_code == 409
    assert "upload it again" in text_of(response.text)


async def test_a_file_over_the_limit_is_refused_before_it_is_read(operator, panel):
    """Its size is told first: the 20 MB are never sent, let alone read."""
    cookies = "; ".join(f"{name}={value}" for name, value in operator.http.cookies.items())
    request = (
        "POST /admin/catalog/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: {cookies}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {21 * 1024 * 1024}\r\nConnection: close\r\n\r\n--x"
    )
    answer = await asyncio.to_thread(exchange, panel.port, request.encode(), 10)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than 20 MB" in answer
