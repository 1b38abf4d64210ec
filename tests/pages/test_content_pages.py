"""The operator's Markdown pages (terms, FAQ, news): written and previewed on /admin/pages by
the owner or an admin (each change in the audit log), shown sanitised on /pages/{slug} in the
visitor's language (English when the Chinese is empty), the news on /news newest first, and the
published pages linked from the customer pages' footer."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import pytest_asyncio
from page_client import PASSWORD, PageClient, text_of, unique
from sqlalchemy import select, update

from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.demo import DEMO_PAGES
from smmpanel.panel.content import (
    ALLOWED_TAGS,
    BODY_LENGTH,
    KIND_NEWS,
    PageText,
    add_page,
    content_pages,
    render_markdown,
    set_published,
)

ADMIN_PAGES = "/admin/pages"
ATTACKS = [
    "<script>alert('raw')</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<a href="javascript:alert(1)" onclick="alert(2)">html link</a>',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<iframe src=//evil.example></iframe>",
    "[vb](vbscript:msgbox(1))",
]


async def signed_in_operator(panel, db, role: str = "owner") -> tuple[PageClient, int]:
    name = unique(f"pages-{role}")
    async with db.write() as conn:
        operator_id = await create_operator(conn, name, await hash_password(PASSWORD), role)
    client = PageClient(panel.url)
    assert (await client.operator_sign_in(name)).status_code == 303
    return client, operator_id


@pytest_asyncio.fixture
async def editor(panel, db):
    """A signed-in admin of its own: (browser, operator id)."""
    client, operator_id = await signed_in_operator(panel, db, "admin")
    yield client, operator_id
    await client.close()


def fields(slug: str, **changes: str) -> dict[str, str]:
    return {
        "slug": slug,
        "kind": "page",
        "title_en": f"Title of {slug}",
        "title_zh_tw": f"{slug} 的標題",
        "body_en": "Hello **world**.",
        "body_zh_tw": "你好，**世界**。",
        **changes,
    }


async def add_through_the_editor(client: PageClient, slug: str, **changes: str) -> int:
    response = await client.submit(ADMIN_PAGES, fields(slug, **changes), page=f"{ADMIN_PAGES}/new")
    assert response.status_code == 303, text_of(response.text)[:800]
    return int(response.headers["location"].rsplit("/", 1)[1])


async def publish(client: PageClient, page_id: int, published: bool = True) -> None:
    page = f"{ADMIN_PAGES}/{page_id}"
    form = {"published": "1"} if published else {}
    response = await client.submit(f"{page}/published", form, page=page)
    assert response.status_code == 303, text_of(response.text)[:800]


def article(html: str) -> str:
    return html.split('id="content-page"', 1)[1].split("</article>", 1)[0]


async def row_of(db, slug: str):
    async with db.read() as conn:
        query = select(content_pages).where(content_pages.c.slug == slug)
        return (await conn.execute(query)).first()


class Elements(HTMLParser):
    """Every element of an HTML fragment, as a browser would parse it: (tag, attributes)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    """Only the allowed tags; no attribute but a link's href and rel; links only to http(s),
    mailto or this site."""
    for tag, attributes in Elements(html).found:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attributes) <= ({"href", "rel"} if tag == "a" else set()), (tag, html)
        if tag == "a":
            href = (attributes.get("href") or "").strip().lower()
            assert href.startswith(("http://", "https://", "mailto:", "/")), html
            assert attributes["rel"] == "nofollow noopener"


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_attacks_render_inert(attack):
    html = render_markdown(f"before\n\n{attack}\n\nafter")
    assert_inert(html)
    assert "before" in html and "after" in html


def test_html_typed_around_markdown_links_stays_text():
    html = render_markdown(
        '<a href="https://ok.example" onclick="x()">[ok](https://ok.example)</a>'
    )
    assert [tag for tag, _attributes in Elements(html).found] == ["p", "a"]
    assert "&lt;a href" in html
    assert_inert(html)


def test_markdown_keeps_the_allowed_parts_and_marks_links():
    html = render_markdown(
        "# Heading\n\n- *one*\n- `two`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[site](https://example.com) [here](/services) [mail](mailto:help@example.com)"
    )
    assert "<h2>Heading</h2>" in html
    assert "<em>one</em>" in html and "<code>two</code>" in html
    assert "<table>" in html and "<td>1</td>" in html
    for href in ("https://example.com", "/services", "mailto:help@example.com"):
        assert f'<a href="{href}" rel="nofollow noopener">' in html


def test_the_demo_has_terms_and_a_faq_in_both_languages():
    assert [page.slug for page in DEMO_PAGES] == ["terms", "faq"]
    for page in DEMO_PAGES:
        assert page.checked() == page
        rendered = page.rendered()
        assert "<h2>" in rendered["html_en"] and "<h2>" in rendered["html_zh_tw"]
        assert page.title_zh_tw and page.body_zh_tw


async def test_a_published_page_shows_sanitised_in_each_language(editor, browser):
    client, _operator_id = editor
    slug = unique("xss")
    body = "\n\n".join(["Safe **text**.", *ATTACKS])
    page_id = await add_through_the_editor(client, slug, body_en=body, body_zh_tw=body)
    assert (await browser.get(f"/pages/{slug}")).status_code == 404  # not yet published
    await publish(client, page_id)

    for language in ("en", "zh_TW"):
        await browser.get(f"/language/{language}", next="/")
        shown = article(await browser.page(f"/pages/{slug}"))
        assert_inert(shown.split("</h1>", 1)[1])
        assert "<strong>text</strong>" in shown
        # The raw HTML typed in Markdown shows as text, escaped.
        assert "&lt;script&gt;" in shown


async def test_chinese_falls_back_to_english_when_empty(editor, browser):
    client, _operator_id = editor
    translated, untranslated = unique("both"), unique("english-only")
    await publish(client, await add_through_the_editor(client, translated))
    page_id = await add_through_the_editor(
        client, untranslated, title_zh_tw="", body_zh_tw="", body_en="Only *English*."
    )
    await publish(client, page_id)
    assert (await browser.get("/language/zh_TW", next="/")).status_code in (302, 303, 307)

    both = article(await browser.page(f"/pages/{translated}"))
    assert f"{translated} 的標題" in both and "你好，<strong>世界</strong>。" in both
    english = article(await browser.page(f"/pages/{untranslated}"))
    assert f"Title of {untranslated}" in english and "Only <em>English</em>." in english


async def test_unpublished_deleted_and_unknown_pages_are_not_found(editor, browser, db):
    client, _operator_id = editor
    slug = unique("gone")
    page_id = await add_through_the_editor(client, slug)
    await publish(client, page_id)
    assert (await browser.get(f"/pages/{slug}")).status_code == 200
    await publish(client, page_id, published=False)
    assert (await browser.get(f"/pages/{slug}")).status_code == 404
    await publish(client, page_id)
    page = f"{ADMIN_PAGES}/{page_id}"
    response = await client.submit(f"{page}/delete", {}, page=page)
    assert response.status_code == 303
    assert (await browser.get(f"/pages/{slug}")).status_code == 404
    assert await row_of(db, slug) is None
    for address in ("/pages/no-such-page", "/pages/Not_A_Slug", "/pages/" + "a" * 61):
        assert (await browser.get(address)).status_code == 404
    assert (await client.get(f"{ADMIN_PAGES}/{page_id}")).status_code == 404


@pytest.mark.parametrize(
    "slug", ["Terms", "with space", "über", "-terms", "terms-", "a--b", "../x", "a" * 61, ""]
)
async def test_a_bad_address_name_is_refused_and_nothing_saved(editor, db, slug):
    client, _operator_id = editor
    title = unique("bad-slug")
    response = await client.submit(
        ADMIN_PAGES, fields(slug, title_en=title), page=f"{ADMIN_PAGES}/new"
    )
    assert response.status_code == 400
    assert "lowercase letters, digits and hyphens" in text_of(response.text)
    async with db.read() as conn:
        found = await conn.scalar(
            select(content_pages.c.id).where(content_pages.c.title_en == title)
        )
    assert found is None


async def test_a_taken_address_name_and_an_over_long_body_are_refused(editor, db):
    client, _operator_id = editor
    slug = unique("taken")
    page_id = await add_through_the_editor(client, slug)
    again = await client.submit(ADMIN_PAGES, fields(slug), page=f"{ADMIN_PAGES}/new")
    assert again.status_code == 400 and "already has the address" in text_of(again.text)

    page = f"{ADMIN_PAGES}/{page_id}"
    too_long = fields(slug, body_en="x" * (BODY_LENGTH + 1))
    refused = await client.submit(page, too_long, page=page)
    assert refused.status_code == 400
    explained = text_of(refused.text)
    assert f"{BODY_LENGTH + 1} characters, at most {BODY_LENGTH} fit" in explained
    assert (await row_of(db, slug)).body_en == "Hello **world**."
    just_fits = await client.submit(page, fields(slug, body_en="y" * BODY_LENGTH), page=page)
    assert just_fits.status_code == 303
    assert len((await row_of(db, slug)).body_en) == BODY_LENGTH


async def test_preview_renders_both_languages_and_saves_nothing(editor, db):
    client, _operator_id = editor
    slug = unique("preview")
    typed = fields(slug, body_en="Preview *me*", body_zh_tw="")
    response = await client.submit(
        ADMIN_PAGES, {**typed, "preview": "1"}, page=f"{ADMIN_PAGES}/new"
    )
    assert response.status_code == 200
    preview = response.text.split('id="preview"', 1)[1]
    assert "Preview <em>me</em>" in preview
    assert await row_of(db, slug) is None

    page_id = await add_through_the_editor(client, slug)
    page = f"{ADMIN_PAGES}/{page_id}"
    changed = fields(slug, body_en="Changed <script>x</script>")
    response = await client.submit(page, {**changed, "preview": "1"}, page=page)
    assert response.status_code == 200
    assert "Changed &lt;script&gt;x&lt;/script&gt;" in response.text.split('id="preview"', 1)[1]
    assert (await row_of(db, slug)).body_en == "Hello **world**."


async def test_each_change_is_audited(editor, db):
    client, operator_id = editor
    slug = unique("audited")
    page_id = await add_through_the_editor(client, slug)
    page = f"{ADMIN_PAGES}/{page_id}"
    assert (await client.submit(page, fields(slug, body_en="New"), page=page)).status_code == 303
    await publish(client, page_id)
    await publish(client, page_id, published=False)
    assert (await client.submit(f"{page}/delete", {}, page=page)).status_code == 303
    async with db.read() as conn:
        rows = await conn.execute(
            select(operator_audit.c.action, operator_audit.c.subject, operator_audit.c.detail)
            .where(operator_audit.c.operator_id == operator_id)
            .order_by(operator_audit.c.id)
        )
        recorded = [tuple(row) for row in rows]
    actions = ["page.add", "page.change", "page.publish", "page.unpublish", "page.delete"]
    assert recorded == [(action, f"page:{page_id}", slug) for action in actions]


async def test_support_and_finance_may_not_edit_pages(panel, db):
    async with db.write() as conn:
        page_id = await add_page(conn, PageText(**fields(unique("guarded"))))
    for role in ("support", "finance"):
        client, operator_id = await signed_in_operator(panel, db, role)
        try:
            nav = await client.page("/admin")
            assert 'href="/admin/pages"' not in nav
            for path in (ADMIN_PAGES, f"{ADMIN_PAGES}/new", f"{ADMIN_PAGES}/{page_id}"):
                assert (await client.get(path)).status_code == 403, (role, path)
            token_page = await client.page("/admin")
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', token_page).group(1)
            posted = await client.http.post(
                f"{ADMIN_PAGES}/{page_id}/published", data={"csrf_token": token, "published": "1"}
            )
            assert posted.status_code == 403
        finally:
            await client.close()
    async with db.read() as conn:
        published = await conn.scalar(
            select(content_pages.c.published).where(content_pages.c.id == page_id)
        )
    assert published is False
    owner, _owner_id = await signed_in_operator(panel, db, "owner")
    try:
        assert 'href="/admin/pages"' in await owner.page("/admin")
        assert (await owner.get(ADMIN_PAGES)).status_code == 200
    finally:
        await owner.close()


async def test_news_newest_first_twenty_a_page(db, browser):
    marker = unique("news")
    start = datetime(2099, 1, 1, tzinfo=UTC)
    async with db.write() as conn:
        for number in range(25):
            slug = f"{marker}-{number}"
            text = fields(slug, kind=KIND_NEWS, title_en=f"{marker} item {number}")
            page_id = await add_page(conn, PageText(**text))
            await set_published(conn, page_id, True)
            later = start + timedelta(minutes=number)
            await conn.execute(
                update(content_pages).where(content_pages.c.id == page_id).values(created_at=later)
            )
        hidden = await add_page(
            conn, PageText(**fields(f"{marker}-hidden", kind=KIND_NEWS, title_en="hidden"))
        )
        await conn.execute(
            update(content_pages)
            .where(content_pages.c.id == hidden)
            .values(created_at=start + timedelta(days=1))
        )

    def titles(html: str) -> list[int]:
        return [int(n) for n in re.findall(rf"{marker} item (\d+)", html)]

    first = await browser.page("/news")
    assert titles(first) == list(range(24, 4, -1))
    assert f"{marker}-hidden" not in first
    second = await browser.page("/news", page=2)
    assert titles(second)[:5] == [4, 3, 2, 1, 0]
    assert f'href="/pages/{marker}-24"' in first


async def test_the_footer_links_published_pages_and_news(editor, browser):
    client, _operator_id = editor
    slug = unique("footer")
    page_id = await add_through_the_editor(client, slug, title_en=f"Footer {slug}")
    assert f'href="/pages/{slug}"' not in await browser.page("/")
    await publish(client, page_id)  # this process reads the links again at once
    home = await browser.page("/")
    footer = home.split('<footer class="site">', 1)[1]
    assert f'<a href="/pages/{slug}">Footer {slug}</a>' in footer
    admin_page = await client.page(ADMIN_PAGES)
    assert '<footer class="site">' not in admin_page
    await publish(client, page_id, published=False)
    assert f'href="/pages/{slug}"' not in await browser.page("/")


async def test_the_operator_list_shows_each_page(editor):
    client, _operator_id = editor
    slug = unique("listed")
    page_id = await add_through_the_editor(client, slug)
    listing = await client.page(ADMIN_PAGES)
    assert f'href="/admin/pages/{page_id}"' in listing and slug in listing
    assert (await client.get(f"{ADMIN_PAGES}/new", kind="news")).status_code == 200
