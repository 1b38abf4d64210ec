"""Operator pages: the operators themselves (the owner's): add, change a role, disable or
enable, set a new password, remove. Stopping an operator or a new password ends its sessions;
the last active owner stays (accounts.operators). Each change is in the audit log."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.accounts.models import OPERATOR_ACTIVE, OPERATOR_DISABLED, OPERATOR_ROLES
from smmpanel.accounts.operators import (
    Operator,
    check_role,
    create_operator,
    disable_operator,
    enable_operator,
    list_operators,
    operator_by_id,
    remove_operator,
    set_operator_password,
    set_operator_role,
)
from smmpanel.accounts.passwords import hash_password
from smmpanel.admin.audit import note
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import forms, i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit

router = APIRouter()
PATH = "/admin/operators"
EMPTY_NEW = {"name": "", "role": ""}

CHOOSE_OPERATOR_STATUS = refusal("form_choose_operator_status", "Choose a status.")


def _password(form: FormData) -> str:
    """The password as typed: spaces are part of it."""
    value = form.get("password", "")
    return value if isinstance(value, str) else ""


def subject(operator_id: int) -> str:
    return f"operator:{operator_id}"


async def _list_page(
    current: Visit,
    status_code: int = 200,
    *,
    error: str | None = None,
    typed: dict[str, str] = EMPTY_NEW,
) -> Response:
    async with current.db.read() as conn:
        rows = await list_operators(conn)
    return current.render(
        "admin/operators.html",
        status_code,
        operators=rows,
        roles=OPERATOR_ROLES,
        error=error,
        typed=typed,
    )


@router.get(PATH)
async def operators_page(current: OperatorVisit) -> Response:
    return await _list_page(current)


@router.post(PATH)
async def add_operator(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: forms.text(form, name) for name in EMPTY_NEW}
    try:
        role = check_role(typed["role"])
        password_hash = await hash_password(_password(form))
        async with current.db.write() as conn:
            operator_id = await create_operator(conn, typed["name"], password_hash, role)
            await note(conn, current, "operator.add", subject(operator_id), f"role {role}")
    except Refusal as refused:
        return await _list_page(current, 400, error=i18n.explain(refused), typed=typed)
    message = _("Operator %(name)s added.") % {"name": typed["name"].strip()}
    return current.redirect(PATH, message)


@router.post(PATH + "/{operator_id:id}/role")
async def change_role(operator_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    role = forms.text(form, "role")

    async def change(conn: AsyncConnection, operator: Operator) -> None:
        await set_operator_role(conn, operator.name, role)
        await note(
            conn, current, "operator.role", subject(operator.id), f"{operator.role} → {role}"
        )

    return await _change(current, operator_id, change, _("The role is changed."))


@router.post(PATH + "/{operator_id:id}/status")
async def change_status(operator_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    status = forms.text(form, "status")

    async def change(conn: AsyncConnection, operator: Operator) -> None:
        if status == OPERATOR_ACTIVE:
            await enable_operator(conn, operator.name)
            await note(conn, current, "operator.enable", subject(operator.id))
        elif status == OPERATOR_DISABLED:
            await disable_operator(conn, operator.name)
            await note(conn, current, "operator.disable", subject(operator.id))
        else:
            raise CHOOSE_OPERATOR_STATUS()

    message = (
        _("The operator may sign in again.")
        if status == OPERATOR_ACTIVE
        else _("The operator is disabled and signed out.")
    )
    return await _change(current, operator_id, change, message)


@router.post(PATH + "/{operator_id:id}/password")
async def change_password(operator_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    try:
        password_hash = await hash_password(_password(form))
    except Refusal as refused:
        return await _list_page(current, 400, error=i18n.explain(refused))

    async def change(conn: AsyncConnection, operator: Operator) -> None:
        await set_operator_password(conn, operator.name, password_hash)
        await note(conn, current, "operator.password", subject(operator.id))

    message = _("The password is changed; the operator's sessions are ended.")
    return await _change(current, operator_id, change, message)


@router.post(PATH + "/{operator_id:id}/remove")
async def remove(operator_id: int, current: OperatorVisit) -> Response:
    await current.form()

    async def change(conn: AsyncConnection, operator: Operator) -> None:
        await remove_operator(conn, operator.name)
        await note(conn, current, "operator.remove", subject(operator.id), operator.name)

    return await _change(current, operator_id, change, _("The operator is removed."))


async def _change(
    current: Visit,
    operator_id: int,
    change: Callable[[AsyncConnection, Operator], Awaitable[None]],
    message: str,
) -> Response:
    """Make one change to a known operator and come back to the list, or show why not."""
    try:
        async with current.db.write() as conn:
            operator = await operator_by_id(conn, operator_id)
            if operator is None:
                raise HTTPException(404)
            await change(conn, operator)
    except Refusal as refused:
        return await _list_page(current, 400, error=i18n.explain(refused))
    return current.redirect(PATH, message)
