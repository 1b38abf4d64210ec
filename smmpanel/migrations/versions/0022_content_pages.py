"""pages the operator writes in Markdown: terms, FAQ, news, in both languages

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

Each page keeps its Markdown and the HTML rendered from it when saved; /news reads the published
news newest first by (kind, created_at, id).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "content_pages",
        sa.Column("id", ID, nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("title_zh_tw", sa.String(length=200), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("body_zh_tw", sa.Text(), nullable=False),
        sa.Column("html_en", sa.Text(), nullable=False),
        sa.Column("html_zh_tw", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('page', 'news')", name=op.f("ck_content_pages_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_content_pages_slug")),
    )
    op.create_index(
        "ix_content_pages_kind_created_at", "content_pages", ["kind", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_content_pages_kind_created_at", table_name="content_pages")
    op.drop_table("content_pages")
