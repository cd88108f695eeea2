"""`flask tokens purge`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.columns import utcnow
from app.extensions import db
from app.models import RevokedToken


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_tokens_purge_deletes_only_expired_rows(app, factory):
    user = factory.make_user()
    now = utcnow()
    for n, delta in enumerate([-3600, -1, 60, 3600]):
        db.session.add(RevokedToken(jti=f"jti-{n}", token_type="access", user_id=user.id,
                                    expires_at=now + timedelta(seconds=delta)))
    db.session.commit()
    result = run(app, "tokens", "purge")
    assert result.exit_code == 0, result.output
    assert "purged 2" in result.output
    db.session.expire_all()
    assert sorted(db.session.scalars(select(RevokedToken.jti))) == ["jti-2", "jti-3"]

