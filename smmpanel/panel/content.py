"""Pages the operator writes in Markdown (terms, FAQ, news), in English and Traditional Chinese.

Markdown is rendered when a page is saved and the HTML stored beside it (`html_en`,
`html_zh_tw`), so a view renders nothing. Rendering is markdown-it-py's CommonMark with tables,
raw HTML off, then nh3 with an allow-list of tags and link schemes: whatever the operator types
(or pastes), the stored HTML holds no script, event handler, style or dangerous link.

The footer's links to the published pages are read at most every `LINKS_SECONDS` per process,
and at once after an operator's change in this process (`forget_footer_links`).
"""

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Select,
    String,
    Table,
    Text,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db import Database, is_unique_violation
from smmpanel.db.base import AnyRow, BigId, Timestamp, metadata, utcnow
from smmpanel.db.per_database import PerDatabase
from smmpanel.errors import N_, refusal

KIND_PAGE, KIND_NEWS = "page", "news"
KINDS = (KIND_PAGE, KIND_NEWS)
SLUG_LENGTH = 60
TITLE_LENGTH = 200
BODY_LENGTH = 50_000
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LINKS_SECONDS = 30.0
MOST_FOOTER_PAGES = 10

content_pages = Table(
    "content_pages",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("slug", String(SLUG_LENGTH), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),
    Column("title_en", String(TITLE_LENGTH), nullable=False),
    Column("title_zh_tw", String(TITLE_LENGTH), nullable=False),
    # What the operator wrote, in Markdown; an empty Chinese body shows the English one.
    Column("body_en", Text, nullable=False),
    Column("body_zh_tw", Text, nullable=False),
    # The bodies rendered and sanitised when saved: what the public pages show as they are.
    Column("html_en", Text, nullable=False),
    Column("html_zh_tw", Text, nullable=False),
    Column("published", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("kind IN ('page', 'news')", name="kind_known"),
    # /news reads the published news newest first.
    Index("ix_content_pages_kind_created_at", "kind", "created_at", "id"),
    # The audit log names a page by id: a deleted one's id is never given again.
    sqlite_autoincrement=True,
)

NO_SUCH_PAGE = refusal("content_page_not_found", "There is no page %(id)s.")
BAD_SLUG = refusal(
    "content_page_bad_slug",
    "The address name must be lowercase letters, digits and hyphens (like terms or"
    " news-2026-12), at most %(limit)s characters.",
)
SLUG_TAKEN = refusal("content_page_slug_taken", "Another page already has the address %(slug)s.")
UNKNOWN_KIND = refusal("content_page_unknown_kind", "A page is a page or a news item.")
PAGE_TEXT_MISSING = refusal("content_page_text_missing", "%(field)s: this field is required.")
PAGE_TEXT_TOO_LONG = refusal(
    "content_page_text_too_long", "%(field)s: %(length)s characters, at most %(limit)s fit."
)

# What the sanitiser lets through; everything else is removed (a tag's text is kept, except
# that of script and style, removed whole).
ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener"


def _headings_below_the_title(state: StateCore) -> None:
    """The page's title is its h1: Markdown's # is h2, ## h3, and anything deeper h4."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 4)}"


_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
_markdown.core.ruler.push("headings_below_the_title", _headings_below_the_title)


def render_markdown(text: str) -> str:
    """Markdown as safe HTML: rendered without raw HTML, then cleaned by the allow-list."""
    return nh3.clean(
        _markdown.render(text),
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel=LINK_REL,
    )


@dataclass(frozen=True)
class PageText:
    """A page as the operator types it."""

    slug: str
    kind: str
    title_en: str
    title_zh_tw: str
    body_en: str
    body_zh_tw: str

    def checked(self) -> "PageText":
        """The page trimmed and within its limits (English title and body required), or a
        refusal."""
        slug = self.slug.strip()
        if len(slug) > SLUG_LENGTH or not SLUG.fullmatch(slug):
            raise BAD_SLUG(limit=SLUG_LENGTH)
        if self.kind not in KINDS:
            raise UNKNOWN_KIND()
        return PageText(
            slug=slug,
            kind=self.kind,
            title_en=_bounded(self.title_en, N_("Title in English"), TITLE_LENGTH, True),
            title_zh_tw=_bounded(
                self.title_zh_tw, N_("Title in Traditional Chinese"), TITLE_LENGTH, False
            ),
            body_en=_bounded(self.body_en, N_("Text in English"), BODY_LENGTH, True),
            body_zh_tw=_bounded(
                self.body_zh_tw, N_("Text in Traditional Chinese"), BODY_LENGTH, False
            ),
        )

    def rendered(self) -> dict[str, str]:
        """Its columns, with both bodies rendered."""
        return {
            **asdict(self),
            "html_en": render_markdown(self.body_en),
            "html_zh_tw": render_markdown(self.body_zh_tw),
        }


def _bounded(text: str, field: str, limit: int, required: bool) -> str:
    value = text.strip()
    if required and not value:
        raise PAGE_TEXT_MISSING(field=field)
    if len(value) > limit:
        raise PAGE_TEXT_TOO_LONG(field=field, length=len(value), limit=limit)
    return value


def in_language(page: AnyRow, language: str) -> tuple[str, str]:
    """The page's title and HTML in the visitor's language; English where the Chinese text is
    empty."""
    if language == "zh_TW" and page.body_zh_tw:
        return str(page.title_zh_tw or page.title_en), str(page.html_zh_tw)
    return str(page.title_en), str(page.html_en)


async def list_pages(conn: AsyncConnection) -> list[AnyRow]:
    """Every page for the operator: pages by address, then news newest first."""
    columns = [content_pages.c[name] for name in ("id", "slug", "kind", "title_en", "published")]
    query = select(*columns, content_pages.c.updated_at).order_by(
        content_pages.c.kind.desc(), content_pages.c.created_at.desc(), content_pages.c.id.desc()
    )
    return list((await conn.execute(query)).all())


async def page_by_id(conn: AsyncConnection, page_id: int) -> AnyRow:
    found = (await conn.execute(select(content_pages).where(content_pages.c.id == page_id))).first()
    if found is None:
        raise NO_SUCH_PAGE(id=page_id)
    return found


async def published_page(conn: AsyncConnection, slug: str) -> AnyRow | None:
    query = select(content_pages).where(
        content_pages.c.slug == slug, content_pages.c.published.is_(True)
    )
    return (await conn.execute(query)).first()


def published_news() -> Select:
    """The published news, newest first: /news reads it a page at a time."""
    return (
        select(content_pages)
        .where(content_pages.c.kind == KIND_NEWS, content_pages.c.published.is_(True))
        .order_by(content_pages.c.created_at.desc(), content_pages.c.id.desc())
    )


async def add_page(conn: AsyncConnection, page: PageText) -> int:
    """A new, unpublished page."""
    checked = page.checked()
    await _check_slug_free(conn, checked.slug, None)
    now = utcnow()
    values = {**checked.rendered(), "published": False, "created_at": now, "updated_at": now}
    async with _slug_taken_refused(checked.slug):
        new_id: int = await conn.scalar(
            insert(content_pages).values(**values).returning(content_pages.c.id)
        )
    return new_id


async def change_page(conn: AsyncConnection, page_id: int, page: PageText) -> None:
    checked = page.checked()
    await page_by_id(conn, page_id)
    await _check_slug_free(conn, checked.slug, page_id)
    values = {**checked.rendered(), "updated_at": utcnow()}
    async with _slug_taken_refused(checked.slug):
        await conn.execute(
            update(content_pages).where(content_pages.c.id == page_id).values(values)
        )


async def set_published(conn: AsyncConnection, page_id: int, published: bool) -> AnyRow:
    """Publish the page, or take it off the site; the page as it was."""
    found = await page_by_id(conn, page_id)
    await conn.execute(
        update(content_pages)
        .where(content_pages.c.id == page_id)
        .values(published=published, updated_at=utcnow())
    )
    return found


async def remove_page(conn: AsyncConnection, page_id: int) -> AnyRow:
    """Delete the page; the page as it was."""
    found = await page_by_id(conn, page_id)
    await conn.execute(delete(content_pages).where(content_pages.c.id == page_id))
    return found


@asynccontextmanager
async def _slug_taken_refused(slug: str) -> AsyncIterator[None]:
    """Another operator's page saved with the same slug at the same moment: refused like one
    found by `_check_slug_free` (the caller's transaction is rolled back)."""
    try:
        yield
    except IntegrityError as error:
        if is_unique_violation(error):
            raise SLUG_TAKEN(slug=slug) from None
        raise


async def _check_slug_free(conn: AsyncConnection, slug: str, page_id: int | None) -> None:
    taken = content_pages.c.slug == slug
    if page_id is not None:
        taken = taken & (content_pages.c.id != page_id)
    if await conn.scalar(select(exists().where(taken))):
        raise SLUG_TAKEN(slug=slug)


# ---- the footer's links


@dataclass(frozen=True)
class FooterLink:
    slug: str
    title_en: str
    title_zh_tw: str

    def title(self, language: str) -> str:
        return self.title_zh_tw if language == "zh_TW" and self.title_zh_tw else self.title_en


@dataclass(frozen=True)
class FooterLinks:
    """The published pages (not news), by address, and whether any news is published."""

    pages: tuple[FooterLink, ...]
    news: bool


class _FooterCache:
    def __init__(self) -> None:
        self.links = FooterLinks(pages=(), news=False)
        self.read_at: float | None = None

    async def get(self, db: Database) -> FooterLinks:
        now = time.monotonic()
        if self.read_at is None or now - self.read_at >= LINKS_SECONDS:
            async with db.read() as conn:
                self.links = await _read_footer_links(conn)
            self.read_at = now
        return self.links

    def forget(self) -> None:
        self.read_at = None


_footers = PerDatabase(_FooterCache)


async def footer_links(db: Database) -> FooterLinks:
    """The footer's links, read again when older than `LINKS_SECONDS`."""
    return await _footers.of(db).get(db)


def forget_footer_links(db: Database) -> None:
    """Read the links again at the next page: an operator changed a page."""
    _footers.of(db).forget()


async def _read_footer_links(conn: AsyncConnection) -> FooterLinks:
    published = content_pages.c.published.is_(True)
    query = (
        select(content_pages.c.slug, content_pages.c.title_en, content_pages.c.title_zh_tw)
        .where(published, content_pages.c.kind == KIND_PAGE)
        .order_by(content_pages.c.slug)
        .limit(MOST_FOOTER_PAGES)
    )
    pages = tuple(FooterLink(**row._mapping) for row in (await conn.execute(query)).all())
    news = await conn.scalar(select(exists().where(published, content_pages.c.kind == KIND_NEWS)))
    return FooterLinks(pages=pages, news=bool(news))
