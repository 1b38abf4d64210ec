"""Refusals of a customer's order requests, worded exactly as the API contract has them."""

from smmpanel.errors import refusal

INCORRECT_SERVICE = refusal("incorrect_service", "Incorrect service ID")
FIELD_REQUIRED = refusal("field_required", "%(field)s is required")
INCORRECT_LINK = refusal("incorrect_link", "Incorrect link")
INCORRECT_QUANTITY = refusal("incorrect_quantity", "Incorrect quantity")
QUANTITY_BELOW_MIN = refusal("quantity_below_min", "Quantity less than minimal %(min)s")
QUANTITY_ABOVE_MAX = refusal("quantity_above_max", "Quantity more than maximum %(max)s")
DRIPFEED_UNSUPPORTED = refusal(
    "dripfeed_unsupported", "Drip-feed is not supported for this service"
)
INCORRECT_RUNS = refusal("incorrect_runs", "Incorrect runs")
INCORRECT_INTERVAL = refusal("incorrect_interval", "Incorrect interval")
INCORRECT_MIN_MAX = refusal("incorrect_min_max", "Incorrect min/max")
INCORRECT_DELAY = refusal("incorrect_delay", "Incorrect delay")
INCORRECT_EXPIRY = refusal("incorrect_expiry", "Incorrect expiry")
INCORRECT_POSTS = refusal("incorrect_posts", "Incorrect posts")
INCORRECT_ANSWER = refusal("incorrect_answer_number", "Incorrect answer_number")
INCORRECT_IDEMPOTENCY_KEY = refusal("incorrect_idempotency_key", "Incorrect idempotency_key")
ACTIVE_ORDER_EXISTS = refusal(
    "active_order_exists",
    "You have active order with this link. Please wait until order being completed.",
)
NOT_ENOUGH_FUNDS = refusal("not_enough_funds", "Not enough funds on balance")
INCORRECT_ORDER = refusal("incorrect_order", "Incorrect order ID")
REFILL_UNAVAILABLE = refusal("refill_unavailable", "Refill is not available for this order")
REFILL_PERIOD_OVER = refusal("refill_period_over", "Refill period is over")
REFILL_ALREADY_REQUESTED = refusal("refill_already_requested", "Refill already requested")
REFILL_NOT_FOUND = refusal("refill_not_found", "Refill not found")
CANCEL_UNAVAILABLE = refusal("cancel_unavailable", "Cancel is not available for this order")
CANCEL_ALREADY_REQUESTED = refusal("cancel_already_requested", "Cancel already requested")
