"""The change feed (GET /events), webhooks and their delivery worker (API.md v1.2). The feed's writer sits
below the blueprints, in app/outbox.py; this package reads it and delivers it."""
