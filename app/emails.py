"""Email addresses as the house stores them: one spelling per address, whoever asks (users, login, throttle)."""

from __future__ import annotations


def normalize_email(email: str) -> str:
    """Emails are stored and looked up trimmed and lowercased: that is what makes them case-insensitive."""
    return email.strip().lower()
