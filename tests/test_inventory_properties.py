"""Property test of the goods ledger: whatever staff try, the books stay right.

Hypothesis draws sequences of operations, valid and invalid alike: intake,
distribution, transfer, adjustment, count, kit assembly and disassembly,
reversal; zero, negative and too large quantities, unknown items and sites, a
closed site, a transfer to the same site, bad dates, a case code that is a
name, reversing a reversal or a document twice. After every operation:

- every balance equals the sum of its ledger entries (``verify_balances``) and
  none is negative;
- an operation a small model of the rules calls valid succeeded and moved the
  balances exactly as the model says; one it calls invalid raised a
  ``DomainError`` and, after the rollback a view does, changed nothing at all
  (balances, par levels, documents, entries, in-kind gifts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import InKindGift, StockDocument, StockEntry, StockLevel, utcnow
from donations.services import catalog, inventory
from donations.services.errors import DomainError

UNKNOWN_ID = 987_654
ITEMS = ("SOAP", "SOCKS-M", "TOOTHBRUSH", "TOOTHPASTE", "SHAMPOO", "KIT-HYG", "UNKNOWN")
SITES = ("shelter", "warehouse", "dropoff", "closed", "unknown")
OPEN_SITES = ("shelter", "warehouse", "dropoff")
KIT_COMPONENTS = ("TOOTHBRUSH", "TOOTHPASTE", "SOAP", "SHAMPOO", "SOCKS-M")  # 1 each
TOO_MANY = inventory.QUANTITY_MAX + 1
DAYS = {"today": 0, "last week": -7, "future": 5, "too old": -400}
CASE_CODES = {"": True, "C-104": True, "Jane Doe": False, "555-123-4567": False}

# --- the operations ---------------------------------------------------------------


def _mostly(valid: list, invalid: list, weight: int = 4):
    """Draw a valid value about ``weight`` times as often as each invalid one."""
    return st.sampled_from(valid * weight + invalid)


quantities = st.integers(0, 21).map(lambda n: n % 8 + 1 if n < 19 else [0, -1, TOO_MANY][n - 19])
line = st.tuples(
    _mostly(list(ITEMS[:-1]), ["UNKNOWN"]),
    quantities,
    _mostly(["new", "good_used"], ["torn"]),
)
# Now and then no lines at all.
lines = st.tuples(st.integers(0, 9), st.lists(line, min_size=1, max_size=3)).map(
    lambda pair: [] if pair[0] == 0 else pair[1]
)
sites = _mostly(list(OPEN_SITES), ["closed", "unknown"])
days = _mostly(["today", "last week"], ["future", "too old"])

intakes = st.tuples(
    st.just("intake"),
    sites,
    lines,
    _mostly(["anonymous", "donor", "drive"], ["drive-unnamed", "gift shop"]),
    days,
)
operations = st.one_of(
    intakes,
    intakes,  # twice as likely: the other operations need stock
    st.tuples(
        st.just("distribution"),
        sites,
        lines,
        _mostly(["", "C-104"], ["Jane Doe", "555-123-4567"]),
        days,
    ),
    st.tuples(st.just("transfer"), sites, sites, lines, days),
    st.tuples(
        st.just("adjustment"),
        sites,
        lines,
        _mostly(["damaged", "lost", "found", "other-in", "other-out"], ["other", "x"], 2),
        days,
    ),
    st.tuples(
        st.just("count"),
        sites,
        st.dictionaries(
            _mostly(list(ITEMS[:-1]), ["UNKNOWN"]), st.integers(-1, 12), min_size=0, max_size=3
        ),
        days,
    ),
    st.tuples(st.just("kit"), sites, _mostly([1, 2, 3], [0, -1, TOO_MANY]), st.booleans()),
    st.tuples(st.just("reverse"), st.integers(-1, 30), _mostly(["Entered twice"], [""])),
)


# --- a small model of the rules -------------------------------------------------------


@dataclass
class Model:
    """Balances by (site, item) key, and the documents written in this example."""

    balances: dict[tuple[str, str], int]
    documents: list[dict] = field(default_factory=list)  # id, kind, deltas, reversed

    def enough(self, deltas: dict[tuple[str, str], int]) -> bool:
        return all(self.balances.get(key, 0) + d >= 0 for key, d in deltas.items())


def _lines_ok(raw: list[tuple[str, int, str]], *, condition: bool = False) -> bool:
    if not raw:
        return False
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for code, quantity, cond in raw:
        if quantity <= 0 or quantity > inventory.QUANTITY_MAX or code == "UNKNOWN":
            return False
        if condition and cond not in ("new", "good_used"):
            return False
        merged[(code, cond if condition else "")] += quantity
    return all(q <= inventory.QUANTITY_MAX for q in merged.values())


def _line_deltas(site: str, raw, sign: int) -> dict[tuple[str, str], int]:
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for code, quantity, _cond in raw:
        deltas[(site, code)] += sign * quantity
    return dict(deltas)


def predict(op: tuple, model: Model) -> dict[tuple[str, str], int] | None:
    """The balance changes the operation should make, or None if it must be refused."""
    kind = op[0]
    if kind == "reverse":
        index = op[1]
        if index < 0 or not model.documents or not op[2]:
            return None
        doc = model.documents[index % len(model.documents)]
        if doc["kind"] == "reversal" or doc["reversed"] or not any(doc["deltas"].values()):
            return None
        deltas = {key: -d for key, d in doc["deltas"].items() if d}
        return deltas if model.enough(deltas) else None
    site = op[1]
    if site not in OPEN_SITES:
        return None
    if kind == "intake":
        _, _, raw, source, day = op
        if DAYS[day] > 1 or DAYS[day] < -inventory.BACKDATE_MAX_DAYS:
            return None
        if source not in ("anonymous", "donor", "drive"):
            return None
        return _line_deltas(site, raw, 1) if _lines_ok(raw, condition=True) else None
    if kind == "distribution":
        _, _, raw, case_code, day = op
        if DAYS[day] > 1 or DAYS[day] < -inventory.BACKDATE_MAX_DAYS:
            return None
        if not CASE_CODES[case_code] or not _lines_ok(raw):
            return None
        deltas = _line_deltas(site, raw, -1)
        return deltas if model.enough(deltas) else None
    if kind == "transfer":
        _, _, target, raw, day = op
        if target not in OPEN_SITES or target == site:
            return None
        if DAYS[day] > 1 or DAYS[day] < -inventory.BACKDATE_MAX_DAYS or not _lines_ok(raw):
            return None
        deltas = _line_deltas(site, raw, -1)
        if not model.enough(deltas):
            return None
        deltas.update(_line_deltas(target, raw, 1))
        return deltas
    if kind == "adjustment":
        _, _, raw, reason, day = op
        if DAYS[day] > 1 or DAYS[day] < -inventory.BACKDATE_MAX_DAYS or not _lines_ok(raw):
            return None
        if reason in ("damaged", "lost", "other-out"):
            sign = -1
        elif reason in ("found", "other-in"):
            sign = 1
        else:
            return None  # "other" without a direction, or an unknown reason
        deltas = _line_deltas(site, raw, sign)
        return deltas if model.enough(deltas) else None
    if kind == "count":
        _, _, counts, day = op
        if DAYS[day] > 1 or DAYS[day] < -inventory.BACKDATE_MAX_DAYS:
            return None
        if not counts or "UNKNOWN" in counts or any(c < 0 for c in counts.values()):
            return None
        return {(site, code): c - model.balances.get((site, code), 0) for code, c in counts.items()}
    if kind == "kit":
        _, _, quantity, disassemble = op
        if quantity <= 0 or quantity > inventory.QUANTITY_MAX:
            return None
        sign = -1 if disassemble else 1
        deltas = {(site, code): -sign * quantity for code in KIT_COMPONENTS}
        deltas[(site, "KIT-HYG")] = sign * quantity
        return deltas if model.enough(deltas) else None
    raise AssertionError(kind)


# --- running an operation through the services -----------------------------------------


def run(op: tuple, ctx: dict, model: Model):
    kind = op[0]
    today = utcnow().date()

    def site_id(key: str) -> int:
        return ctx["sites"].get(key, UNKNOWN_ID)

    def item_id(code: str) -> int:
        return ctx["items"].get(code, UNKNOWN_ID)

    def make_lines(raw):
        return [inventory.Line(item_id(code), q, cond) for code, q, cond in raw]

    if kind == "intake":
        _, site, raw, source, day = op
        return inventory.record_intake(
            actor=None,
            site_id=site_id(site),
            effective_date=today + timedelta(days=DAYS[day]),
            source="drive" if source == "drive-unnamed" else source,
            drive_name="Lincoln High coat drive" if source == "drive" else "",
            donor_id=ctx["donor_id"] if source == "donor" else None,
            lines=make_lines(raw),
        )
    if kind == "distribution":
        _, site, raw, case_code, day = op
        return inventory.record_distribution(
            actor=None,
            site_id=site_id(site),
            effective_date=today + timedelta(days=DAYS[day]),
            recipient="Street outreach",
            case_code=case_code,
            lines=make_lines(raw),
        )
    if kind == "transfer":
        _, site, target, raw, day = op
        return inventory.record_transfer(
            actor=None,
            from_site_id=site_id(site),
            to_site_id=site_id(target),
            effective_date=today + timedelta(days=DAYS[day]),
            lines=make_lines(raw),
        )
    if kind == "adjustment":
        _, site, raw, reason, day = op
        base, _, direction = reason.partition("-")
        return inventory.record_adjustment(
            actor=None,
            site_id=site_id(site),
            effective_date=today + timedelta(days=DAYS[day]),
            reason=base,
            direction=direction,
            note="Checked by the property test" if base == "other" else "",
            lines=make_lines(raw),
        )
    if kind == "count":
        _, site, counts, day = op
        return inventory.record_count(
            actor=None,
            site_id=site_id(site),
            effective_date=today + timedelta(days=DAYS[day]),
            counts={item_id(code): c for code, c in counts.items()},
        )
    if kind == "kit":
        _, site, quantity, disassemble = op
        return inventory.assemble_kits(
            actor=None,
            site_id=site_id(site),
            kit_item_id=ctx["items"]["KIT-HYG"],
            quantity=quantity,
            effective_date=today,
            disassemble=disassemble,
        )
    if kind == "reverse":
        _, index, note = op
        if index < 0 or not model.documents:
            document_id = UNKNOWN_ID
        else:
            document_id = model.documents[index % len(model.documents)]["id"]
        return inventory.reverse_document(actor=None, document_id=document_id, note=note)
    raise AssertionError(kind)


# --- the test ------------------------------------------------------------------------------


@pytest.fixture
def ledger(goods, create_donor):
    closed = catalog.create_site(actor=None, name="Old depot", kind="warehouse", active=False)
    for site in (goods.shelter, goods.warehouse, goods.dropoff):  # stock to move around
        inventory.record_intake(
            actor=None,
            site_id=site.id,
            effective_date=utcnow().date(),
            source="anonymous",
            lines=[goods.line(code, 10, "new") for code in ITEMS if code != "UNKNOWN"],
        )
    db.session.commit()
    sites = {
        "shelter": goods.shelter.id,
        "warehouse": goods.warehouse.id,
        "dropoff": goods.dropoff.id,
        "closed": closed.id,
    }
    items = {code: goods.items[code].id for code in ITEMS if code != "UNKNOWN"}
    return {"sites": sites, "items": items, "donor_id": create_donor("Property Donor").id}


def snapshot() -> tuple:
    levels = {
        (lv.site_id, lv.item_id): (lv.on_hand, lv.par_level, lv.low_alerted_at)
        for lv in db.session.scalars(select(StockLevel))
    }
    counts = tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (StockDocument, StockEntry, InKindGift)
    )
    return levels, counts


def balances_by_key(ctx: dict) -> dict[tuple[str, str], int]:
    site_keys = {v: k for k, v in ctx["sites"].items()}
    item_keys = {v: k for k, v in ctx["items"].items()}
    return {
        (site_keys[lv.site_id], item_keys[lv.item_id]): lv.on_hand
        for lv in db.session.scalars(select(StockLevel))
        if lv.item_id in item_keys
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # no example database in the working tree
)
@given(ops=st.lists(operations, min_size=1, max_size=12))
def test_any_sequence_of_operations_keeps_the_books_right(app, ledger, ops):
    # The database carries over between examples; the model starts from it.
    model = Model(balances=balances_by_key(ledger))
    for op in ops:
        expected = predict(op, model)
        event(f"{op[0]} {'valid' if expected is not None else 'invalid'}")
        before = snapshot()
        try:
            document = run(op, ledger, model)
        except DomainError:
            db.session.rollback()  # as a view does
            assert expected is None, f"refused a valid operation: {op}"
            assert snapshot() == before, f"a refused operation changed something: {op}"
        else:
            db.session.commit()
            assert expected is not None, f"accepted an invalid operation: {op}"
            after = balances_by_key(ledger)
            for key in set(after) | set(model.balances):
                change = after.get(key, 0) - model.balances.get(key, 0)
                assert change == expected.get(key, 0), f"{key} moved by {change} after {op}"
            assert snapshot()[1][0] == before[1][0] + 1  # exactly one document
            model.balances = after
            if op[0] == "reverse":
                original = next(d for d in model.documents if d["id"] == document.reverses_id)
                original["reversed"] = True
            model.documents.append(
                {
                    "id": document.id,
                    "kind": document.kind,
                    "deltas": {k: v for k, v in expected.items() if v},
                    "reversed": False,
                }
            )
        assert inventory.verify_balances() == []
        assert (db.session.scalar(select(func.min(StockLevel.on_hand))) or 0) >= 0
