"""The operator's pages as the public sees them: /pages/{slug} (terms, FAQ, a news item) and
/news, the published news newest first; and the footer's links to them (`footer_links`, a
dependency of every customer page).

The HTML was rendered and sanitised when the operator saved the page (smmpanel.panel.content):
a view reads one row and renders no Markdown.
"""

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.pagekit.pages import AnyVisit, Pages
from smmpanel.pagekit.pagination import list_address, page_number, select_page
from smmpanel.panel import content

router = APIRouter()
NEWS_PATH = "/news"
NEWS_PAGE_SIZE = 20


async def footer_links(request: Request) -> None:
    """The links the footer shows (base.html), read from the process's cache."""
    pages: Pages = request.app.state.pages
    request.state.footer_links = await content.footer_links(pages.db)


@router.get("/pages/{slug}")
async def content_page(current: AnyVisit, slug: str) -> Response:
    if len(slug) > content.SLUG_LENGTH or not content.SLUG.fullmatch(slug):
        raise HTTPException(404)
    async with current.db.read() as conn:
        page = await content.published_page(conn, slug)
    if page is None:
        raise HTTPException(404)
    title, html = content.in_language(page, current.language)
    return current.render("web/content_page.html", page=page, title=title, html=html)


@router.get(NEWS_PATH)
async def news(current: AnyVisit, page: str = "") -> Response:
    async with current.db.read() as conn:
        found = await select_page(conn, content.published_news(), page_number(page), NEWS_PAGE_SIZE)
    items = [(row, *content.in_language(row, current.language)) for row in found.rows]
    return current.render(
        "web/news.html",
        found=found,
        items=items,
        page_url=lambda number: list_address(NEWS_PATH, number),
    )
