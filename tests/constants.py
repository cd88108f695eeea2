"""Values every test folder shares: the test password, the API paths, the problem media type."""

from __future__ import annotations

PASSWORD = "correct horse battery"
WRONG_PASSWORD = "wrong password"
PROBLEM = "application/problem+json"

API = "/api/v1"
LOGIN = f"{API}/auth/login"
REFRESH = f"{API}/auth/refresh"
LOGOUT = f"{API}/auth/logout"
ME = f"{API}/auth/me"
USERS = f"{API}/users"
PRODUCTS = f"{API}/products"
ORDERS = f"{API}/orders"
BATCH = f"{ORDERS}/batch"
REPORTS = f"{API}/reports"
LOCATIONS = f"{API}/locations"
