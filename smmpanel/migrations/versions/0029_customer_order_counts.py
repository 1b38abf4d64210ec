"""each customer's orders per status, kept by the database's own triggers

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04

Every insert, status change and delete of an order adds a row to
`customer_order_count_changes` (+1 for the new status, -1 for the old one), from a trigger, so
no code path can forget it and no write waits on a shared counter row. The worker folds those
rows into `customer_order_counts` (orders/counts.py); a customer's count is the sum of both.

A migration that rebuilds `orders` on SQLite (`batch_alter_table` copies it into a new table)
drops its triggers: it must create them again (the statements below).
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHANGES = "customer_order_count_changes"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER orders_counted_when_placed AFTER INSERT ON orders
    BEGIN
        INSERT INTO {CHANGES} (customer_id, status, change)
        VALUES (NEW.customer_id, NEW.status, 1);
    END""",
    f"""CREATE TRIGGER orders_counted_when_changed AFTER UPDATE OF status, customer_id ON orders
    WHEN OLD.status IS NOT NEW.status OR OLD.customer_id IS NOT NEW.customer_id
    BEGIN
        INSERT INTO {CHANGES} (customer_id, status, change)
        VALUES (OLD.customer_id, OLD.status, -1), (NEW.customer_id, NEW.status, 1);
    END""",
    f"""CREATE TRIGGER orders_counted_when_deleted AFTER DELETE ON orders
    BEGIN
        INSERT INTO {CHANGES} (customer_id, status, change)
        VALUES (OLD.customer_id, OLD.status, -1);
    END""",
)

# Placing is counted once per statement (a batch of orders is one row per customer and
# status); a change or a delete once per row, and only when the status or customer changed.
POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION orders_count_placed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {CHANGES} (customer_id, status, change)
        SELECT customer_id, status, count(*) FROM placed_orders GROUP BY customer_id, status;
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION orders_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {CHANGES} (customer_id, status, change)
        VALUES (OLD.customer_id, OLD.status, -1);
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO {CHANGES} (customer_id, status, change)
            VALUES (NEW.customer_id, NEW.status, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER orders_counted_when_placed AFTER INSERT ON orders
    REFERENCING NEW TABLE AS placed_orders
    FOR EACH STATEMENT EXECUTE FUNCTION orders_count_placed()""",
    """CREATE TRIGGER orders_counted_when_changed AFTER UPDATE OF status, customer_id ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION orders_count_change()""",
    """CREATE TRIGGER orders_counted_when_deleted AFTER DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_count_change()""",
)

TRIGGER_NAMES = (
    "orders_counted_when_placed",
    "orders_counted_when_changed",
    "orders_counted_when_deleted",
)


def create_triggers() -> None:
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if is_sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def drop_triggers() -> None:
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER {name}" if is_sqlite else f"DROP TRIGGER {name} ON orders")
    if not is_sqlite:
        op.execute("DROP FUNCTION orders_count_placed()")
        op.execute("DROP FUNCTION orders_count_change()")


def upgrade() -> None:
    op.create_table(
        "customer_order_counts",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "status", name=op.f("pk_customer_order_counts")),
    )
    op.create_table(
        CHANGES,
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{CHANGES}")),
    )
    op.create_index(f"ix_{CHANGES}_customer_id", CHANGES, ["customer_id"])
    op.execute(
        "INSERT INTO customer_order_counts (customer_id, status, orders)"
        " SELECT customer_id, status, count(*) FROM orders GROUP BY customer_id, status"
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_index(f"ix_{CHANGES}_customer_id", table_name=CHANGES)
    op.drop_table(CHANGES)
    op.drop_table("customer_order_counts")
