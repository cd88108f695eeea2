"""CLI commands: `flask users ...`, `flask seed`, housekeeping. (`flask db ...` is Flask-Migrate.)"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from marshmallow import ValidationError
from sqlalchemy import func, select

from app.errors import APIError, flatten_errors
from app.extensions import db
from app.models import ROLES, User

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="waiter", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a user (prompts for the password when --password is missing); same rules as POST /users."""
    from app.users.schemas import UserIn
    from app.users.services import UserInput
    from app.users.services import create_user as create

    try:
        data = UserIn().load({"email": email, "name": name, "password": password, "role": role})
        user = create(UserInput(**data))
    except ValidationError as exc:
        messages = flatten_errors(exc.messages)
        raise click.ClickException("; ".join(f"{k}: {' '.join(v)}" for k, v in messages.items())) from None
    except APIError as exc:
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_cli.command("ensure-admin")
def ensure_admin() -> None:
    """Make sure an active admin exists; create one (ADMIN_EMAIL/ADMIN_PASSWORD or generated)."""
    from app.users.services import UserInput
    from app.users.services import create_user as create

    database, saved = first_admin_file()
    count = db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active))
    if count:
        hint = f" (first admin's credentials: {saved})" if saved.exists() else ""
        click.echo(f"{count} active admin(s) exist; log in with POST /api/v1/auth/login{hint}.")
        return
    email = current_app.config["ADMIN_EMAIL"] or "admin@comanda.local"
    password = current_app.config["ADMIN_PASSWORD"] or secrets.token_urlsafe(12)
    create(UserInput(email=email, name="Administrator", password=password, role="admin"))
    db.session.commit()
    shown = "(from ADMIN_PASSWORD)" if current_app.config["ADMIN_PASSWORD"] else password
    if current_app.config["ENV_NAME"] == "development" and not current_app.config["ADMIN_PASSWORD"]:
        # Local convenience only: instance/ is git-ignored; production prints once and keeps nothing.
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(f"database: {database}\nemail: {email}\npassword: {password}\n")
        saved.chmod(0o600)
        shown += f"  (also saved in {saved})"
    click.echo(
        "Created the first admin.\n"
        f"  email:    {email}\n  password: {shown}\n"
        "Log in: curl -s -X POST http://127.0.0.1:5000/api/v1/auth/login "
        f'-H \'Content-Type: application/json\' -d \'{{"email": "{email}", "password": "..."}}\'\n'
        "This password is shown once; change it with PATCH /api/v1/users/{id}."
    )


def first_admin_file() -> tuple[str, Path]:
    """This database (its URL without the password) and the file its first admin's login is kept in.

    instance/first-admin.txt belongs to the first database that used it (its `database:` line); another
    database (a second DATABASE_URL, a test run) gets first-admin-<hash of its URL>.txt, so one
    database's credentials never overwrite, nor are shown as, another's."""
    database = db.engine.url.render_as_string(hide_password=True)
    instance = Path(current_app.instance_path)
    own = instance / f"first-admin-{hashlib.sha256(database.encode()).hexdigest()[:12]}.txt"
    shared = instance / "first-admin.txt"
    if own.exists():
        return database, own
    if not shared.exists() or f"database: {database}\n" in shared.read_text().splitlines(keepends=True):
        return database, shared
    return database, own


idempotency_cli = AppGroup("idempotency", help="Idempotency keys.")


@idempotency_cli.command("purge")
def purge_idempotency_keys() -> None:
    """Delete Idempotency-Key records older than IDEMPOTENCY_TTL_HOURS (at least 24 h)."""
    from app.web.idempotency import purge_expired

    removed = purge_expired()
    db.session.commit()
    click.echo(f"purged {removed} idempotency key(s)")


tokens_cli = AppGroup("tokens", help="Manage the token blocklist.")


@tokens_cli.command("purge")
def purge_tokens() -> None:
    """Delete blocklist rows of tokens that have expired anyway (safe to run from cron)."""
    from app.auth.services import purge_expired_tokens

    count = purge_expired_tokens()
    db.session.commit()
    click.echo(f"purged {count} expired revoked token(s)")


webhooks_cli = AppGroup("webhooks", help="Deliver the change feed to webhooks.")


@webhooks_cli.command("work")
@click.option("--batch", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Deliveries claimed per round.")
def webhooks_work(batch: int) -> None:
    """Deliver webhooks until SIGTERM (several may run on PostgreSQL; one on SQLite). See docs/feed.md."""
    from app.feed.worker import Worker

    Worker(batch=batch).run()


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(idempotency_cli)
    app.cli.add_command(tokens_cli)
    from app.reports.maintenance import reports_cli
    from app.seed import seed_command

    app.cli.add_command(seed_command)
    app.cli.add_command(reports_cli)
    app.cli.add_command(webhooks_cli)
