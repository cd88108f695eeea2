"""The business figures, below the blueprints: what an order, a payment or a refund contributes to
which rollup row (`rollups`), the calendar of those rows (`periods`), and the queries that read the
figures back (`queries`). The reports blueprint answers with them and the day close (app/cash/days.py)
reads the same figures, so neither imports the other."""
