"""Operator pages for the pages the public reads (terms, FAQ, news): the list, a new page, a
page edited in both languages side by side with a preview rendered here ("Preview" saves
nothing), publishing, and deleting. Each change writes an audit row in its transaction and
refreshes this process's footer links."""

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.db.base import AnyRow
from smmpanel.errors import N_, Refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import flag, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.panel import content

router = APIRouter()
PATH = "/admin/pages"
FIELDS = ("slug", "kind", "title_en", "title_zh_tw", "body_en", "body_zh_tw")
EMPTY_PAGE = {**dict.fromkeys(FIELDS, ""), "kind": content.KIND_PAGE}
KIND_LABELS = {content.KIND_PAGE: N_("Ordinary page"), content.KIND_NEWS: N_("News item")}
# The submit button that asks for a preview instead of saving.
PREVIEW = "preview"


def page_path(page_id: int) -> str:
    return f"{PATH}/{page_id}"


def subject(page_id: int) -> str:
    return f"page:{page_id}"


@router.get(PATH)
async def page_list(current: OperatorVisit) -> Response:
    async with current.db.read() as conn:
        pages = await content.list_pages(conn)
    return current.render("admin/content_pages.html", pages=pages, news=content.KIND_NEWS)


@router.get(PATH + "/new")
async def new_page(current: OperatorVisit, kind: str = "") -> Response:
    typed = {**EMPTY_PAGE, "kind": kind if kind in content.KINDS else content.KIND_PAGE}
    return _editor(current, None, typed)


@router.post(PATH)
async def add(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = _typed(form)
    if flag(form, PREVIEW):
        return _preview(current, None, typed)
    try:
        async with current.db.write() as conn:
            page_id = await content.add_page(conn, content.PageText(**typed))
            await note(conn, current, "page.add", subject(page_id), typed["slug"])
    except Refusal as refused:
        return _editor(current, None, typed, error=i18n.explain(refused))
    content.forget_footer_links(current.db)
    return current.redirect(page_path(page_id), _("The page is added, not yet published."))


@router.get(PATH + "/{page_id:id}")
async def edit(current: OperatorVisit, page_id: int) -> Response:
    page = await _page_or_404(current, page_id)
    typed = {name: str(getattr(page, name)) for name in FIELDS}
    return _editor(current, page, typed)


@router.post(PATH + "/{page_id:id}")
async def save(current: OperatorVisit, page_id: int) -> Response:
    form = await current.form()
    typed = _typed(form)
    page = await _page_or_404(current, page_id)
    if flag(form, PREVIEW):
        return _preview(current, page, typed)
    try:
        async with current.db.write() as conn:
            await content.change_page(conn, page_id, content.PageText(**typed))
            await note(conn, current, "page.change", subject(page_id), typed["slug"])
    except Refusal as refused:
        if refused.kind is content.NO_SUCH_PAGE:
            raise HTTPException(404) from None
        return _editor(current, page, typed, error=i18n.explain(refused))
    content.forget_footer_links(current.db)
    return current.redirect(page_path(page_id), _("The page is saved."))


@router.post(PATH + "/{page_id:id}/published")
async def publish(current: OperatorVisit, page_id: int) -> Response:
    form = await current.form()
    published = flag(form, "published")
    action = "page.publish" if published else "page.unpublish"
    try:
        async with current.db.write() as conn:
            page = await content.set_published(conn, page_id, published)
            await note(conn, current, action, subject(page_id), page.slug)
    except Refusal:
        raise HTTPException(404) from None
    content.forget_footer_links(current.db)
    message = _("The page is published.") if published else _("The page is taken off the site.")
    return current.redirect(page_path(page_id), message)


@router.post(PATH + "/{page_id:id}/delete")
async def remove(current: OperatorVisit, page_id: int) -> Response:
    await current.form()
    try:
        async with current.db.write() as conn:
            page = await content.remove_page(conn, page_id)
            await note(conn, current, "page.delete", subject(page_id), page.slug)
    except Refusal:
        raise HTTPException(404) from None
    content.forget_footer_links(current.db)
    return current.redirect(PATH, _("The page is deleted."))


def _typed(form: FormData) -> dict[str, str]:
    return {name: text(form, name) for name in FIELDS}


async def _page_or_404(current: Visit, page_id: int) -> AnyRow:
    async with current.db.read() as conn:
        try:
            return await content.page_by_id(conn, page_id)
        except Refusal:
            raise HTTPException(404) from None


def _preview(current: Visit, page: AnyRow | None, typed: dict[str, str]) -> Response:
    """The editor again with both languages rendered as the public would see them; nothing
    is saved."""
    try:
        rendered = content.PageText(**typed).checked().rendered()
    except Refusal as refused:
        return _editor(current, page, typed, error=i18n.explain(refused))
    preview = {"en": rendered["html_en"], "zh_TW": rendered["html_zh_tw"]}
    return _editor(current, page, typed, preview=preview)


def _editor(
    current: Visit,
    page: AnyRow | None,
    typed: dict[str, str],
    *,
    error: str | None = None,
    preview: dict[str, str] | None = None,
) -> Response:
    return current.render(
        "admin/content_page_edit.html",
        status_code=400 if error else 200,
        page=page,
        typed=typed,
        error=error,
        preview=preview,
        kinds=KIND_LABELS,
        slug_length=content.SLUG_LENGTH,
        title_length=content.TITLE_LENGTH,
        body_length=content.BODY_LENGTH,
    )
