"""Which operator role may use which admin page: one rule per route, enforced for all of them.

Roles: the owner may do everything (operators, settings and the audit log only they may);
an admin runs the catalogue, the providers, the orders and the customers; support answers
tickets, reads orders and handles refills and cancels; finance handles funds, payments,
the ledger and the payment methods.

`RULES` maps each route, as FastAPI has it (method and path template), to the roles that may
use it besides the owner. `require_role` is a dependency of every admin route but signing in
and out (`OPEN`): a route without a rule is the owner's alone, and
tests/pages/test_admin_roles.py fails until it has one. A new admin route adds one line here.
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request

from smmpanel.accounts.models import OPERATOR_OWNER
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit

OWNER, ADMIN, SUPPORT, FINANCE = OPERATOR_OWNER, "admin", "support", "finance"
ANY_ROLE = frozenset({OWNER, ADMIN, SUPPORT, FINANCE})
OWNER_ONLY: frozenset[str] = frozenset()

# Routes anyone may reach, signed in or not.
OPEN = frozenset(
    {
        ("GET", "/admin/signin"),
        ("POST", "/admin/signin"),
        ("POST", "/admin/signout"),
        ("GET", "/admin/signin/code"),
        ("POST", "/admin/signin/code"),
        ("GET", "/admin/signin/set-up"),
        ("POST", "/admin/signin/set-up"),
    }
)

CUSTOMER = "/admin/customers/{customer_id:id}"
SERVICE = "/admin/catalog/services/{service_id:id}"
PROVIDER = "/admin/providers/{provider_id:id}"
ORDER = "/admin/orders/{order_id:id}"
PAYMENT = "/admin/payments/{payment_id:id}"
METHOD = "/admin/payment-methods/{method_id:id}"
OPERATOR = "/admin/operators/{operator_id:id}"
TICKET = "/admin/tickets/{ticket_id:id}"
CANNED_REPLY = "/admin/canned-replies/{reply_id:id}"
CONTENT_PAGE = "/admin/pages/{page_id:id}"

# (method, path) -> the roles besides the owner that may use it.
RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/admin"): ANY_ROLE,
    # One's own two-factor sign-in
    ("GET", "/admin/two-factor"): ANY_ROLE,
    ("POST", "/admin/two-factor/on"): ANY_ROLE,
    ("POST", "/admin/two-factor/recovery-codes"): ANY_ROLE,
    ("POST", "/admin/two-factor/off"): ANY_ROLE,
    # One's own time zone
    ("GET", "/admin/me"): ANY_ROLE,
    ("POST", "/admin/me"): ANY_ROLE,
    # Customers
    ("GET", "/admin/customers"): frozenset({ADMIN, SUPPORT, FINANCE}),
    ("GET", CUSTOMER): frozenset({ADMIN, SUPPORT, FINANCE}),
    ("POST", CUSTOMER + "/status"): frozenset({ADMIN}),
    ("POST", CUSTOMER + "/funds"): frozenset({ADMIN, FINANCE}),
    ("POST", CUSTOMER + "/prices"): frozenset({ADMIN}),
    ("POST", CUSTOMER + "/discount"): frozenset({ADMIN, FINANCE}),
    ("POST", CUSTOMER + "/sign-in-as"): frozenset({ADMIN, SUPPORT}),
    ("GET", "/admin/customers/new"): frozenset({ADMIN}),
    ("POST", "/admin/customers/new"): frozenset({ADMIN}),
    ("POST", CUSTOMER + "/profile"): frozenset({ADMIN}),
    ("POST", CUSTOMER + "/keys/{key_id:id}/revoke"): frozenset({ADMIN, SUPPORT}),
    ("POST", CUSTOMER + "/keys/revoke-all"): frozenset({ADMIN, SUPPORT}),
    # Catalogue
    ("GET", "/admin/catalog"): frozenset({ADMIN}),
    ("GET", "/admin/catalog/categories"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/categories"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/categories/{category_id:id}"): frozenset({ADMIN}),
    ("GET", "/admin/catalog/services/new"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/services"): frozenset({ADMIN}),
    ("GET", SERVICE): frozenset({ADMIN}),
    ("POST", SERVICE): frozenset({ADMIN}),
    ("POST", SERVICE + "/enabled"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/services/enabled"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/prices"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/services/category"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/services/delete"): frozenset({ADMIN}),
    ("POST", SERVICE + "/type"): frozenset({ADMIN}),
    ("POST", SERVICE + "/provider"): frozenset({ADMIN}),
    ("POST", SERVICE + "/by-hand"): frozenset({ADMIN}),
    ("GET", "/admin/catalog/transfer"): frozenset({ADMIN}),
    ("GET", "/admin/catalog/export.json"): frozenset({ADMIN}),
    ("POST", "/admin/catalog/import"): frozenset({ADMIN}),
    # Providers
    ("GET", "/admin/providers"): frozenset({ADMIN}),
    ("POST", "/admin/providers"): frozenset({ADMIN}),
    ("GET", PROVIDER): frozenset({ADMIN}),
    ("POST", PROVIDER): frozenset({ADMIN}),
    ("POST", PROVIDER + "/test"): frozenset({ADMIN}),
    ("POST", PROVIDER + "/import-preview"): frozenset({ADMIN}),
    ("POST", PROVIDER + "/import"): frozenset({ADMIN}),
    ("POST", PROVIDER + "/archive"): frozenset({ADMIN}),
    ("POST", PROVIDER + "/unarchive"): frozenset({ADMIN}),
    # Orders
    ("GET", "/admin/orders"): frozenset({ADMIN, SUPPORT}),
    ("GET", ORDER): frozenset({ADMIN, SUPPORT}),
    ("POST", ORDER): frozenset({ADMIN}),
    ("POST", ORDER + "/post"): frozenset({ADMIN}),
    ("GET", "/admin/orders/doubts"): frozenset({ADMIN, SUPPORT}),
    ("POST", ORDER + "/resolve"): frozenset({ADMIN}),
    ("POST", "/admin/orders/bulk"): frozenset({ADMIN}),
    ("GET", "/admin/refills"): frozenset({ADMIN, SUPPORT}),
    ("POST", "/admin/refills/{refill_id:id}"): frozenset({ADMIN, SUPPORT}),
    ("GET", "/admin/cancels"): frozenset({ADMIN, SUPPORT}),
    ("POST", "/admin/cancels/{cancel_id:id}"): frozenset({ADMIN, SUPPORT}),
    # Payments
    ("GET", "/admin/payments"): frozenset({FINANCE}),
    ("GET", PAYMENT): frozenset({FINANCE}),
    ("POST", PAYMENT + "/approve"): frozenset({FINANCE}),
    ("POST", PAYMENT + "/reject"): frozenset({FINANCE}),
    ("GET", "/admin/payment-methods"): frozenset({FINANCE}),
    ("GET", "/admin/payment-methods/new"): frozenset({FINANCE}),
    ("POST", "/admin/payment-methods/new"): frozenset({FINANCE}),
    ("GET", METHOD): frozenset({FINANCE}),
    ("POST", METHOD): frozenset({FINANCE}),
    # Tickets and canned replies
    ("GET", "/admin/tickets"): frozenset({ADMIN, SUPPORT}),
    ("GET", TICKET): frozenset({ADMIN, SUPPORT}),
    ("POST", TICKET + "/reply"): frozenset({ADMIN, SUPPORT}),
    ("POST", TICKET + "/assign"): frozenset({ADMIN, SUPPORT}),
    ("POST", TICKET + "/close"): frozenset({ADMIN, SUPPORT}),
    ("POST", TICKET + "/reopen"): frozenset({ADMIN, SUPPORT}),
    ("GET", "/admin/canned-replies"): frozenset({ADMIN, SUPPORT}),
    ("POST", "/admin/canned-replies"): frozenset({ADMIN, SUPPORT}),
    ("GET", CANNED_REPLY): frozenset({ADMIN, SUPPORT}),
    ("POST", CANNED_REPLY): frozenset({ADMIN, SUPPORT}),
    ("POST", CANNED_REPLY + "/delete"): frozenset({ADMIN, SUPPORT}),
    # The pages the public reads: terms, FAQ, news
    ("GET", "/admin/pages"): frozenset({ADMIN}),
    ("GET", "/admin/pages/new"): frozenset({ADMIN}),
    ("POST", "/admin/pages"): frozenset({ADMIN}),
    ("GET", CONTENT_PAGE): frozenset({ADMIN}),
    ("POST", CONTENT_PAGE): frozenset({ADMIN}),
    ("POST", CONTENT_PAGE + "/published"): frozenset({ADMIN}),
    ("POST", CONTENT_PAGE + "/delete"): frozenset({ADMIN}),
    # The outbox of e-mails and alerts
    ("GET", "/admin/outbox"): frozenset({ADMIN}),
    # The owner's own
    ("GET", "/admin/settings"): OWNER_ONLY,
    ("POST", "/admin/settings"): OWNER_ONLY,
    ("GET", "/admin/operators"): OWNER_ONLY,
    ("POST", "/admin/operators"): OWNER_ONLY,
    ("POST", OPERATOR + "/role"): OWNER_ONLY,
    ("POST", OPERATOR + "/status"): OWNER_ONLY,
    ("POST", OPERATOR + "/password"): OWNER_ONLY,
    ("POST", OPERATOR + "/remove"): OWNER_ONLY,
    ("GET", "/admin/audit"): OWNER_ONLY,
}


def allowed(role: str | None, method: str, path: str) -> bool:
    """Whether an operator of this role may use the route `path` (a template) by `method`."""
    if role == OWNER:
        return True
    return role is not None and role in RULES.get((method, path), OWNER_ONLY)


def routes_of(role: str | None) -> frozenset[str]:
    """The routes this role may use, as "METHOD path": what the templates show links and
    buttons for (`request.state.admin_routes`)."""
    return frozenset(f"{method} {path}" for (method, path) in RULES if allowed(role, method, path))


async def require_role(request: Request, current: OperatorVisit) -> None:
    """Refuse, before the handler reads anything, a route the operator's role may not use."""
    assert current.operator is not None
    role = current.operator.role
    request.state.admin_routes = routes_of(role)
    route = request.scope["route"]
    method = "GET" if request.method == "HEAD" else request.method
    if not allowed(role, method, route.path):
        raise HTTPException(403, _("Your role does not allow this page."))
