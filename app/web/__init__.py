"""HTTP plumbing, grouped by concern and free of the domain: JSON bodies, request ids and logs,
the one transaction of a request, idempotency, OpenAPI helpers, pagination and URL converters."""
