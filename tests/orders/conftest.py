"""Order fixtures: waiter, other_waiter, manager, menu and place are in tests/conftest.py."""
