"""one of our services per upstream service: unique (provider_id, provider_service_id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Refuses, changing nothing, while two services resell the same upstream service: which one to
keep is the operator's choice, never deleted here.
"""

import sqlalchemy as sa
from alembic import op

from smmpanel.db.migrate import UPSTREAM_SERVICE_RESOLD

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DUPLICATES = sa.text(
    "SELECT provider_id, provider_service_id, MIN(id) AS kept, COUNT(*) AS how_many"
    " FROM services"
    " WHERE provider_id IS NOT NULL AND provider_service_id IS NOT NULL"
    " GROUP BY provider_id, provider_service_id"
    " HAVING COUNT(*) > 1"
    " ORDER BY provider_id, provider_service_id"
)


def upgrade() -> None:
    _refuse_duplicates()
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_services_provider_id_provider_service_id"),
            ["provider_id", "provider_service_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_services_provider_id_provider_service_id"), type_="unique"
        )


def _refuse_duplicates() -> None:
    groups = op.get_bind().execute(DUPLICATES).all()
    if not groups:
        return
    listed = "; ".join(
        f"provider {row.provider_id} service {row.provider_service_id!r}:"
        f" {row.how_many} of ours (the first is {row.kept})"
        for row in groups
    )
    raise UPSTREAM_SERVICE_RESOLD(listed=listed)
