"""The largest values an INTEGER and a BIGINT column hold, on both databases.

Kept out of `smmpanel.db`, whose import brings in SQLAlchemy, so that the command line can
bound its options with them without that cost.
"""

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
