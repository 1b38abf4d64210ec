"""What the customer pages (`web`) and the operator pages (`admin`) share.

Visits, sessions, languages, pagination, templating, the ledger as pages show it, error pages.
"""
