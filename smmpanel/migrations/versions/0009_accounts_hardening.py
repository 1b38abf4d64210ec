"""accounts: names compared by key, operators disabled and removed, sign-ups counted

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Customers and operators get `name_key` (NFKC, case-folded, stripped: accounts.names), unique, so
"Bob" and "bob" are one name. Where existing names already share a key, the oldest account keeps
it and each other gets the key followed by "#" and its id, the name to sign in with from now
on; the migration logs each one. Operators get a status (active, disabled, removed); a removed
operator keeps its row and its name, so the name itself is no longer unique.
"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NAME_KEY_LENGTH = 400
log = logging.getLogger("alembic.runtime.migration")


def _name_key(name: str) -> str:
    # accounts.names.name_key as of this revision: a migration keeps the rule it applied.
    folded = unicodedata.normalize("NFKC", name).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def _fill_name_keys(table: str) -> None:
    accounts = sa.table(table, sa.column("id", sa.Integer), sa.column("name", sa.String))
    keys = sa.table(table, sa.column("id", sa.Integer), sa.column("name_key", sa.String))
    connection = op.get_bind()
    taken: set[str] = set()
    for account_id, name in connection.execute(
        sa.select(accounts.c.id, accounts.c.name).order_by(accounts.c.id)
    ):
        key = _name_key(name)
        while key in taken:
            key = f"{key}#{account_id}"
            log.warning(
                "%s %s: %r is taken by an older account; it signs in as %r",
                table,
                account_id,
                name,
                key,
            )
        taken.add(key)
        connection.execute(sa.update(keys).where(keys.c.id == account_id).values(name_key=key))


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(NAME_KEY_LENGTH), nullable=True))
    _fill_name_keys("customers")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(NAME_KEY_LENGTH), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_customers_name_key"), ["name_key"])

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(NAME_KEY_LENGTH), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(20), server_default="active", nullable=False)
        )
    _fill_name_keys("operators")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_operators_name"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_operators_name_key"), ["name_key"])
        batch_op.create_check_constraint(
            batch_op.f("ck_operators_status_known"),
            "status IN ('active', 'disabled', 'removed')",
        )

    op.create_table(
        "sign_ups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_ups")),
    )
    with op.batch_alter_table("sign_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_ups_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_ups_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_ups_created_at"))
        batch_op.drop_index(batch_op.f("ix_sign_ups_address"))
    op.drop_table("sign_ups")
    # Removed operators go: the name is unique again, and nothing else refers to them here.
    op.execute(
        "DELETE FROM web_sessions WHERE operator_id IN "
        "(SELECT id FROM operators WHERE status = 'removed')"
    )
    op.execute("DELETE FROM operators WHERE status = 'removed'")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_operators_status_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_operators_name_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_operators_name"), ["name"])
        batch_op.drop_column("status")
        batch_op.drop_column("name_key")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customers_name_key"), type_="unique")
        batch_op.drop_column("name_key")
