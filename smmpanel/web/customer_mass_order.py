"""The mass-order page: one `service_id|link|quantity` per line, each line placed on its own."""

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.errors import Refusal
from smmpanel.orders.placement import place_in_transaction
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.web.customer_placing import explain_refusal
from smmpanel.web.customer_queries import charges_of

router = APIRouter()
MAX_LINES = 100


@dataclass(frozen=True)
class LineResult:
    number: int
    text: str
    order_id: int | None = None
    error: str | None = None


def order_lines(text: str) -> list[tuple[int, str]]:
    """The non-empty lines, each with its line number in the box."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def line_fields(line: str) -> dict[str, str] | None:
    """`service|link|quantity` as the API's fields; a link may itself hold a `|`."""
    service, _sep, rest = line.partition("|")
    link, sep, quantity = rest.rpartition("|")
    if not sep:
        return None
    return {"service": service.strip(), "link": link.strip(), "quantity": quantity.strip()}


async def _place_line(current: Visit, number: int, line: str) -> LineResult:
    fields = line_fields(line)
    if fields is None:
        error = _("Wrong format: write service ID|link|quantity.")
        return LineResult(number, line, error=error)
    try:
        order_id = await place_in_transaction(current.db, current.customer_id, fields)
    except Refusal as refused:
        return LineResult(number, line, error=explain_refusal(refused))
    return LineResult(number, line, order_id=order_id)


def _page(current: Visit, text: str, status_code: int = 200, **context: object) -> Response:
    context = {"results": [], "charged": 0, "error": None, **context}
    return current.render("web/order_mass.html", status_code, text=text, **context)


@router.get("/order/mass")
async def mass_order_page(current: CustomerVisit) -> Response:
    return _page(current, "")


@router.post("/order/mass")
async def place_mass_order(current: CustomerVisit) -> Response:
    form = await current.form()
    text = str(form.get("orders", ""))
    lines = order_lines(text)
    if not lines:
        return _page(current, text, 400, error=_("Write at least one order line."))
    if len(lines) > MAX_LINES:
        error = _("At most %(most)s lines at once; this has %(count)s.") % {
            "most": MAX_LINES,
            "count": len(lines),
        }
        return _page(current, text, 400, error=error)
    results = [await _place_line(current, number, line) for number, line in lines]
    placed = [result.order_id for result in results if result.order_id is not None]
    async with current.db.read() as conn:
        charged = await charges_of(conn, current.customer_id, placed)
    # The box keeps only the lines that failed, to be fixed and sent again.
    failed = "\n".join(result.text for result in results if result.error)
    return _page(current, failed, 200 if placed else 400, results=results, charged=charged)
