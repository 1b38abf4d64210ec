"""Refusals a customer sees, worded exactly as the API contract has them."""

INCORRECT_SERVICE = "Incorrect service ID"
INCORRECT_LINK = "Incorrect link"
INCORRECT_QUANTITY = "Incorrect quantity"
DRIPFEED_UNSUPPORTED = "Drip-feed is not supported for this service"
INCORRECT_RUNS = "Incorrect runs"
INCORRECT_INTERVAL = "Incorrect interval"
INCORRECT_MIN_MAX = "Incorrect min/max"
INCORRECT_DELAY = "Incorrect delay"
INCORRECT_EXPIRY = "Incorrect expiry"
INCORRECT_POSTS = "Incorrect posts"
INCORRECT_ANSWER = "Incorrect answer_number"
INCORRECT_IDEMPOTENCY_KEY = "Incorrect idempotency_key"
ACTIVE_ORDER_EXISTS = (
    "You have active order with this link. Please wait until order being completed."
)
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
INCORRECT_ORDER = "Incorrect order ID"
REFILL_UNAVAILABLE = "Refill is not available for this order"
REFILL_PERIOD_OVER = "Refill period is over"
REFILL_ALREADY_REQUESTED = "Refill already requested"
REFILL_NOT_FOUND = "Refill not found"
CANCEL_UNAVAILABLE = "Cancel is not available for this order"
CANCEL_ALREADY_REQUESTED = "Cancel already requested"


class OrderRefused(Exception):
    """The customer's request is refused with one of the messages above."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def required(field: str) -> OrderRefused:
    return OrderRefused(f"{field} is required")


def quantity_below(minimum: int) -> OrderRefused:
    return OrderRefused(f"Quantity less than minimal {minimum}")


def quantity_above(maximum: int) -> OrderRefused:
    return OrderRefused(f"Quantity more than maximum {maximum}")
