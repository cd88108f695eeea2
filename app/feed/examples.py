"""OpenAPI examples of the feed and webhooks."""

EVENT = {
    "id": 1042, "type": "order.payment_added", "location_id": 1, "occurred_at": "2026-11-21T20:15:03Z",
    "subject": {"type": "order", "id": 311, "version": 4}, "actor": {"id": 7, "name": "Ana"}, "approved_by": None,
    "data": {"payment_id": 3, "method": "card", "amount": "150.00", "tip": "15.00", "tendered": None,
             "change": None, "balance_due": "80.50", "version": 4},
}
EVENT_EXAMPLE = {"data": [EVENT], "next_cursor": "eyJ2IjoxLCJwIjp7IjEiOjEwNDJ9fQ"}
WEBHOOK_EXAMPLE = {"id": 3, "url": "https://hooks.example.com/comanda", "types": ["order.*"], "location_ids": [],
                   "description": "Accounting", "active": True, "created_at": "2026-11-21T20:15:03Z",
                   "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
