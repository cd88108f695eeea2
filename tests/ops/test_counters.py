"""Gapless per-location numbers (app/counters.py): in commit order, rolled-back numbers given back."""

from __future__ import annotations

import threading
from datetime import date

from app.counters import take
from app.extensions import db
from app.locations.services import ensure_default_location


def test_numbers_count_per_location_name_and_day(app):
    loc = ensure_default_location().id
    assert [take(loc, "folio") for _ in range(3)] == [1, 2, 3]
    assert take(loc, "ticket", day=date(2026, 1, 1)) == 1
    assert take(loc, "ticket", day=date(2026, 1, 2)) == 1
    assert take(loc, "ticket", day=date(2026, 1, 1), count=5) == 6
    assert take(loc, "folio") == 4


def test_a_rolled_back_number_is_given_back(app):
    loc = ensure_default_location().id
    assert take(loc, "folio") == 1
    db.session.commit()
    assert take(loc, "folio") == 2
    db.session.rollback()
    assert take(loc, "folio") == 2


def test_concurrent_takers_get_every_number_once_in_commit_order(app, postgres_only):
    loc = ensure_default_location().id
    db.session.commit()
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with app.app_context():
            for _ in range(10):
                number = take(loc, "folio")
                with lock:
                    taken.append(number)
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(1, 81))


def test_the_next_number_waits_for_the_previous_commit(app, postgres_only):
    loc = ensure_default_location().id
    db.session.commit()
    assert take(loc, "folio") == 1  # held, not committed
    got: list[int] = []

    def second() -> None:
        with app.app_context():
            got.append(take(loc, "folio"))
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive() and got == []  # waits: number 2 cannot commit before number 1
    db.session.commit()
    thread.join(timeout=10)
    assert got == [2]
