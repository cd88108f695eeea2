"""CLI commands: `flask users ...`, `flask seed`, housekeeping. (`flask db ...` is Flask-Migrate.)"""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models import ROLES, User

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="waiter", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a user (prompts for the password when --password is missing)."""
    from app.users.services import UserInput
    from app.users.services import create_user as create

    user = create(UserInput(email=email, name=name, password=password, role=role))
    db.session.commit()
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_cli.command("ensure-admin")
def ensure_admin() -> None:
    """Make sure an active admin exists; create one (ADMIN_EMAIL/ADMIN_PASSWORD or generated)."""
    from app.users.services import UserInput
    from app.users.services import create_user as create

    count = db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active))
    if count:
        click.echo(f"{count} active admin(s) exist; log in with POST /api/v1/auth/login.")
        return
    email = current_app.config["ADMIN_EMAIL"] or "admin@comanda.local"
    password = current_app.config["ADMIN_PASSWORD"] or secrets.token_urlsafe(12)
    create(UserInput(email=email, name="Administrator", password=password, role="admin"))
    db.session.commit()
    shown = "(from ADMIN_PASSWORD)" if current_app.config["ADMIN_PASSWORD"] else password
    click.echo(
        "Created the first admin.\n"
        f"  email:    {email}\n  password: {shown}\n"
        "Log in: curl -s -X POST http://127.0.0.1:5000/api/v1/auth/login "
        f"-H 'Content-Type: application/json' -d '{{\"email\": \"{email}\", \"password\": \"...\"}}'\n"
        "This password is shown once; change it with PATCH /api/v1/users/{id}."
    )


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    from app.reports.maintenance import reports_cli
    from app.seed import seed_command

    app.cli.add_command(seed_command)
    app.cli.add_command(reports_cli)
