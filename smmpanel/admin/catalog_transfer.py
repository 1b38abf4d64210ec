"""Operator pages: the catalogue downloaded as the JSON file `smmpanel catalog export` writes,
and such a file imported: uploaded, previewed (what it adds and changes), then confirmed.

The previewed file waits for the confirmation in a folder of this machine's temporary files,
named by its SHA-256 digest, which the confirm form carries: what is imported is exactly what
was previewed. A file never confirmed is removed after a day.
"""

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.catalog.import_preview import preview_import
from smmpanel.catalog.transfer import (
    dump,
    export_catalog,
    import_catalog,
    read_catalog,
)
from smmpanel.db.base import utcnow
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import flag, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit

router = APIRouter()
TRANSFER = "/admin/catalog/transfer"
EXPORT = "/admin/catalog/export.json"
IMPORT = "/admin/catalog/import"
MAX_FILE_BYTES = 20 * 1024 * 1024
# The multipart wrapping around the file: the token, the part headers, the boundaries.
FORM_OVERHEAD_BYTES = 64 * 1024
KEPT_SECONDS = 24 * 3600  # a previewed file not confirmed is removed after this
SHOWN = 50  # new and changed services listed in the preview; the rest are counted
DIGEST = re.compile(r"[0-9a-f]{64}")
WAITING = Path(tempfile.gettempdir()) / "smmpanel-catalog-imports"

FILE_NOT_UTF8 = refusal(
    "catalog_upload_not_utf8",
    "the file was not imported, nothing changed: it is not UTF-8 text; save it as UTF-8 JSON",
)


def _transfer_page(current: Visit, status_code: int = 200, error: str | None = None) -> Response:
    return current.render(
        "admin/catalog_transfer.html", status_code, error=error, max_megabytes=_megabytes()
    )


def _megabytes() -> int:
    return MAX_FILE_BYTES // (1024 * 1024)


@router.get(TRANSFER)
async def transfer_page(current: OperatorVisit) -> Response:
    return _transfer_page(current)


@router.get(EXPORT)
async def export(current: OperatorVisit) -> Response:
    async with current.db.read() as conn:
        document = await export_catalog(conn)
    name = f"catalog-{utcnow():%Y-%m-%d}.json"
    return Response(
        dump(document).encode(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(IMPORT)
async def import_file(current: OperatorVisit) -> Response:
    """Without `confirm`: an uploaded file, previewed. With it: the previewed file, imported."""
    if _too_large(current):
        return _transfer_page(current, 413, _too_large_message())
    form = await current.form()
    if flag(form, "confirm"):
        return await _confirm(current, text(form, "digest"))
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _transfer_page(current, 400, _("Choose the catalogue file to import."))
    content = await upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        return _transfer_page(current, 413, _too_large_message())
    return await _preview(current, content)


def _too_large(current: Visit) -> bool:
    """Refused before the body is read: a browser always says how large its upload is."""
    length = current.request.headers.get("content-length", "")
    return not length.isdigit() or int(length) > MAX_FILE_BYTES + FORM_OVERHEAD_BYTES


def _too_large_message() -> str:
    message = _("The file is larger than %(megabytes)s MB: split the catalogue into smaller files.")
    return message % {"megabytes": _megabytes()}


async def _preview(current: Visit, content: bytes) -> Response:
    try:
        entries = read_catalog(_text_of(content))
        async with current.db.write() as conn:
            preview = await preview_import(conn, entries, SHOWN)
    except Refusal as error:
        return _refused(current, error)
    digest = _keep(content)
    return current.render(
        "admin/catalog_transfer.html",
        error=None,
        preview=preview,
        added_more=max(0, preview.summary.created - SHOWN),
        changed_more=max(0, len(preview.changed) - SHOWN),
        shown=SHOWN,
        digest=digest,
    )


def _text_of(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise FILE_NOT_UTF8() from None


def _refused(current: Visit, error: Refusal) -> Response:
    return _transfer_page(current, 400, i18n.explain(error))


async def _confirm(current: Visit, digest: str) -> Response:
    content = _kept(digest)
    if content is None:
        error = _(
            "The previewed file is no longer here (it is kept a day, on the server that showed"
            " the preview): upload it again."
        )
        return _transfer_page(current, 409, error)
    try:
        entries = read_catalog(_text_of(content))
        async with current.db.write() as conn:
            summary = await import_catalog(conn, entries)
            detail = (
                f"{summary.created} new, {summary.updated} updated, in"
                f" {summary.categories} categories; file sha256 {digest}"
            )
            await note(conn, current, "catalog.import", "catalog", detail)
    except Refusal as error:
        return _refused(current, error)
    _forget(digest)
    message = _(
        "Catalogue imported: %(created)s new services, %(updated)s updated,"
        " in %(categories)s categories."
    ) % {
        "created": summary.created,
        "updated": summary.updated,
        "categories": summary.categories,
    }
    return current.redirect("/admin/catalog", message)


# ---- the previewed files, waiting for their confirmation


def _keep(content: bytes) -> str:
    """Store the file under its digest (readable by this user only); its digest."""
    _prune()
    digest = hashlib.sha256(content).hexdigest()
    WAITING.mkdir(mode=0o700, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=WAITING, delete=False) as partial:
        partial.write(content)
    os.replace(partial.name, WAITING / digest)
    return digest


def _kept(digest: str) -> bytes | None:
    """The previewed file of this digest, if it is here and intact."""
    if not DIGEST.fullmatch(digest):
        return None
    try:
        content = (WAITING / digest).read_bytes()
    except OSError:
        return None
    return content if hashlib.sha256(content).hexdigest() == digest else None


def _forget(digest: str) -> None:
    (WAITING / digest).unlink(missing_ok=True)


def _prune() -> None:
    if not WAITING.is_dir():
        return
    too_old = time.time() - KEPT_SECONDS
    for waiting in WAITING.iterdir():
        try:
            if waiting.stat().st_mtime < too_old:
                waiting.unlink()
        except OSError:
            continue  # removed meanwhile by another process
