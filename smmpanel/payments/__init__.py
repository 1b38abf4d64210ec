"""Payments: customers top up their balance through payment methods (a gateway each); a
payment is credited once, only on verified news from its gateway or an operator's approval."""
