"""Operators: the people who run the panel from the admin pages.

An operator is active, disabled (cannot sign in until enabled again) or removed. A removed
operator keeps its row, so whatever refers to it still does, but loses its name key: it cannot
sign in, is no longer listed, and its name may be given to a new operator. Whatever stops an
operator or changes its password ends its sessions.

Each operator has a role (accounts.models.OPERATOR_ROLES; admin/roles.py says what each may
open). There is always an active owner: the last one is neither stopped nor given another role.
"""

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import (
    OPERATOR_ACTIVE,
    OPERATOR_DISABLED,
    OPERATOR_OWNER,
    OPERATOR_REMOVED,
    OPERATOR_ROLES,
    operators,
    web_sessions,
)
from smmpanel.accounts.names import checked_name, name_key
from smmpanel.accounts.service import check_time_zone
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.db.dialect import insert_or_ignore, locked
from smmpanel.errors import refusal

OPERATOR_NEEDS_NAME = refusal("operator_needs_name", "an operator needs a name")
OPERATOR_NAME_TAKEN = refusal("operator_name_taken", "an operator named %(name)r exists already")
NO_OPERATOR = refusal("no_operator", "no operator is named %(name)r; see `smmpanel operator list`")
LAST_ACTIVE_OPERATOR = refusal(
    "last_active_operator",
    "%(name)r is the only active operator: nobody could sign in to the admin pages. "
    "Add another first with `smmpanel operator add NAME`",
)
LAST_ACTIVE_OWNER = refusal(
    "last_active_owner",
    "%(name)r is the only active owner: nobody could manage the operators and the settings. "
    "Make another operator an owner first",
)
UNKNOWN_ROLE = refusal(
    "unknown_operator_role",
    "there is no role %(role)r: choose owner, admin, support or finance",
)


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    status: str
    password_hash: str
    role: str


OPERATOR_COLUMNS = (
    operators.c.id,
    operators.c.name,
    operators.c.status,
    operators.c.password_hash,
    operators.c.role,
)


def check_role(role: str) -> str:
    if role not in OPERATOR_ROLES:
        raise UNKNOWN_ROLE(role=role)
    return role


async def create_operator(
    conn: AsyncConnection, name: str, password_hash: str, role: str = OPERATOR_OWNER
) -> int:
    check_role(role)
    name, key = checked_name(name, operators, OPERATOR_NEEDS_NAME)
    operator_id = await conn.scalar(
        insert_or_ignore(conn, operators)
        .values(
            name=name, name_key=key, password_hash=password_hash, role=role, created_at=utcnow()
        )
        .returning(operators.c.id)
    )
    if operator_id is None:
        raise OPERATOR_NAME_TAKEN(name=name)
    return operator_id


async def operator_by_name(conn: AsyncConnection, name: str) -> Operator | None:
    """The operator, active or disabled, of this name as names are compared; None if removed."""
    row = (
        await conn.execute(select(*OPERATOR_COLUMNS).where(operators.c.name_key == name_key(name)))
    ).first()
    return None if row is None else Operator(*row)


async def operator_by_id(conn: AsyncConnection, operator_id: int) -> Operator | None:
    """The operator, active or disabled, of this id; None if removed or unknown."""
    row = (
        await conn.execute(
            select(*OPERATOR_COLUMNS).where(
                operators.c.id == operator_id, operators.c.status != OPERATOR_REMOVED
            )
        )
    ).first()
    return None if row is None else Operator(*row)


async def set_operator_role(conn: AsyncConnection, name: str, role: str) -> str:
    """Give an operator another role; its name as stored."""
    check_role(role)
    operator = await _known_operator(conn, name)
    if role != OPERATOR_OWNER:
        await _keep_an_active_owner(conn, operator)
    await conn.execute(update(operators).where(operators.c.id == operator.id).values(role=role))
    return operator.name


async def set_operator_password(conn: AsyncConnection, name: str, password_hash: str) -> None:
    operator = await _known_operator(conn, name)
    await conn.execute(
        update(operators).where(operators.c.id == operator.id).values(password_hash=password_hash)
    )
    await _end_sessions(conn, operator.id)


async def disable_operator(conn: AsyncConnection, name: str) -> str:
    """Stop an operator from signing in, at once; its name as stored."""
    return await _stop(conn, name, status=OPERATOR_DISABLED)


async def remove_operator(conn: AsyncConnection, name: str) -> str:
    """Remove an operator for good, freeing its name; its name as stored."""
    return await _stop(conn, name, status=OPERATOR_REMOVED, name_key=None)


async def enable_operator(conn: AsyncConnection, name: str) -> str:
    operator = await _known_operator(conn, name)
    await conn.execute(
        update(operators).where(operators.c.id == operator.id).values(status=OPERATOR_ACTIVE)
    )
    return operator.name


async def _stop(conn: AsyncConnection, name: str, **values: object) -> str:
    operator = await _known_operator(conn, name)
    await _keep_an_active_owner(conn, operator)
    await conn.execute(update(operators).where(operators.c.id == operator.id).values(**values))
    await _end_sessions(conn, operator.id)
    return operator.name


async def _keep_an_active_owner(conn: AsyncConnection, operator: Operator) -> None:
    """Refuse to take away the last active operator, or the last active owner."""
    # Locked, so two operators stopped at once cannot both see the other still active.
    active = await conn.execute(
        locked(
            conn,
            select(operators.c.id, operators.c.role).where(operators.c.status == OPERATOR_ACTIVE),
        )
    )
    others = [row for row in active if row.id != operator.id]
    if operator.status != OPERATOR_ACTIVE:
        return
    if not others:
        raise LAST_ACTIVE_OPERATOR(name=operator.name)
    if operator.role == OPERATOR_OWNER and all(row.role != OPERATOR_OWNER for row in others):
        raise LAST_ACTIVE_OWNER(name=operator.name)


async def _known_operator(conn: AsyncConnection, name: str) -> Operator:
    operator = await operator_by_name(conn, name)
    if operator is None:
        raise NO_OPERATOR(name=name)
    return operator


async def set_operator_time_zone(
    conn: AsyncConnection, operator_id: int, time_zone: str | None
) -> None:
    """The IANA zone the operator reads the admin pages' times in; None: the panel's."""
    if time_zone is not None:
        check_time_zone(time_zone)
    await conn.execute(
        update(operators).where(operators.c.id == operator_id).values(time_zone=time_zone)
    )


async def _end_sessions(conn: AsyncConnection, operator_id: int) -> None:
    await conn.execute(delete(web_sessions).where(web_sessions.c.operator_id == operator_id))


async def list_operators(conn: AsyncConnection) -> list[AnyRow]:
    """Every operator not removed, with its status."""
    return list(
        await conn.execute(
            select(
                operators.c.id,
                operators.c.name,
                operators.c.role,
                operators.c.status,
                operators.c.created_at,
            )
            .where(operators.c.status != OPERATOR_REMOVED)
            .order_by(operators.c.id)
        )
    )
