"""A session's figures, its Z as CSV rows and as a 42-column slip: pure functions over cents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.money import cents_to_str

CASH_NAMES = ("cash_sales", "cash_tips", "cash_refunds", "pay_in", "pay_out", "safe_drop", "tip_out")
METHOD_NAMES = ("payments", "amount", "tips", "refunds")
WIDTH = 42


def expected_cash(opening_float: int, f: dict[str, int]) -> int:
    """opening_float + cash_sales + cash_tips - cash_refunds + pay_in - pay_out - safe_drop - tip_out."""
    return (opening_float + f["cash_sales"] + f["cash_tips"] - f["cash_refunds"] + f["pay_in"] - f["pay_out"]
            - f["safe_drop"] - f["tip_out"])


def session_figures(opening_float: int, running: dict[str, int], by_method: list[dict[str, Any]],
                    orders: int, first_folio: int | None, last_folio: int | None) -> dict[str, Any]:
    """The `figures` object (money in cents)."""
    return {**{name: running[name] for name in CASH_NAMES}, "expected_cash": expected_cash(opening_float, running),
            "by_method": by_method, "orders": orders, "first_folio": first_folio, "last_folio": last_folio}


def _money(value: int | None) -> str:
    return "" if value is None else cents_to_str(value)


def csv_rows(z: dict[str, Any]) -> list[tuple[str, str]]:
    """`field,value` rows: z_number, opening_float, every figure, by_method as <method>_<name>, counted_cash,
    variance; a name that would repeat (cash_tips) appears once, being the same figure."""
    figures = z["figures"]
    rows: list[tuple[str, str]] = [("z_number", str(z["z_number"])), ("opening_float", _money(z["opening_float"]))]
    rows += [(name, _money(figures[name])) for name in (*CASH_NAMES, "expected_cash")]
    for row in figures["by_method"]:
        for name in METHOD_NAMES:
            value = str(row[name]) if name == "payments" else _money(row[name])
            rows.append((f"{row['method']}_{name}", value))
    rows += [("orders", str(figures["orders"])),
             ("first_folio", "" if figures["first_folio"] is None else str(figures["first_folio"])),
             ("last_folio", "" if figures["last_folio"] is None else str(figures["last_folio"])),
             ("counted_cash", _money(z["counted_cash"])), ("variance", _money(z["variance"]))]
    seen: set[str] = set()
    unique = []
    for name, value in rows:
        if name not in seen:
            seen.add(name)
            unique.append((name, value))
    return unique


def _line(label: str, value: str = "") -> str:
    """`label ......... value` in exactly WIDTH columns (label cut when it would not fit)."""
    if not value:
        return label[:WIDTH]
    value = value[:WIDTH]
    label = label[:max(0, WIDTH - len(value) - 1)]
    return label.ljust(WIDTH - len(value)) + value


def _when(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def text_slip(z: dict[str, Any]) -> str:
    """The printable Z: 42 columns, a `Z #<n>` line, every money figure as a decimal string."""
    f = z["figures"]
    rule = "-" * WIDTH
    lines = [z["location_name"][:WIDTH].center(WIDTH).rstrip(), f"Z #{z['z_number']}".center(WIDTH).rstrip(),
             rule, _line("Drawer", z["drawer_name"][:30]), _line("Opened", _when(z["opened_at"])),
             _line("  by", z["opened_by"][:30]), _line("Closed", _when(z["closed_at"])),
             _line("  by", z["closed_by"][:30]), rule, _line("Opening float", _money(z["opening_float"]))]
    labels = {"cash_sales": "Cash sales", "cash_tips": "Cash tips", "cash_refunds": "Cash refunds",
              "pay_in": "Pay in", "pay_out": "Pay out", "safe_drop": "Safe drop", "tip_out": "Tip out"}
    lines += [_line(labels[name], _money(f[name])) for name in CASH_NAMES]
    lines += [_line("Expected cash", _money(f["expected_cash"])), _line("Counted cash", _money(z["counted_cash"])),
              _line("Variance", _money(z["variance"]))]
    if z.get("variance_reason"):
        lines.append(_line("  reason", z["variance_reason"][:30]))
    if z.get("approved_by"):
        lines.append(_line("  approved by", z["approved_by"][:26]))
    lines.append(rule)
    for row in f["by_method"]:
        lines += [_line(f"{row['method'].upper()} ({row['payments']} payments)"),
                  _line("  amount", _money(row["amount"])), _line("  tips", _money(row["tips"])),
                  _line("  refunds", _money(row["refunds"]))]
    folios = "-" if f["first_folio"] is None else f"{f['first_folio']}-{f['last_folio']}"
    lines += [rule, _line("Orders", str(f["orders"])), _line("Folios", folios)]
    return "\n".join(lines) + "\n"
