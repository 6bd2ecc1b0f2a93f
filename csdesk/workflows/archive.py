# Over 600 lines because the archive is one all-or-nothing procedure whose parts (the plan's fixed point
# over the references, writing and verifying the file, the one live transaction, finishing a pending
# rename) must be read together to check that no crash loses or duplicates a row; it belongs to no area.
"""Half-yearly archive (归档, issue 18): move finished work older than a cut-off into a SQLite file.

What moves (a row keeps its id):
- calls whose time is before the cut-off;
- complaints closed before the cut-off, with their whole timeline (complaint_event);
- callbacks that are over (done, missed, cancelled) before the cut-off, and callback series that have
  ended (not active) — a series moves only with all of its callbacks;
- projects that are settled or archived, whose last activity (creation, handover, acceptance, payments,
  instalments paid, dunning steps, adjustments) was before the cut-off and, when settled, whose every
  adjustment is accepted — with all their adjustments, instalments, payments, allocations and dunning steps;
- the notices and audit rows about every row that moves.

What stays: customers and staff (never archived), all open work, and everything a row that stays refers
to, or that refers to a row that stays. That is a fixed point over the references between these tables
(the foreign keys of csdesk/models.py, plus the soft references `call.complaint_id`,
`callback.complaint_id`, `callback_series.complaint_id`): a candidate that refers to a call, complaint,
callback or series that stays, stays too; a candidate that a staying row refers to stays too. References
to a project are one-way: a call or complaint may move while its project stays live — the archive then
carries a copy of that project (a "reference copy"), as it carries copies of all staff, and of the
customers (with their phone numbers) its rows refer to, so that `customer show`, `audit` and the reports
work on the archive file alone.

All or nothing: the archive is written to FILE.partial (same migrations, plus the archive_marker row that
makes csdesk refuse writes to it), verified (row counts per table, money totals per project,
`PRAGMA integrity_check` and `foreign_key_check`) and synced to disk; then, in ONE write transaction of
the live database, the plan is computed again (a row that changed meanwhile refuses the archive), the rows
are deleted and the archive is recorded (table archive + an audit row). Only after that commit is
FILE.partial renamed to FILE. A crash before the commit leaves the live database as it was (and a
.partial file that the next `db archive` removes); a crash between the commit and the rename leaves the
record pointing at FILE with its checksum, and `db archive`/`db archives` finish the rename.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Callable

from csdesk.errors import Conflict, CsdeskError, InvalidValue
from csdesk.i18n import N_, _

CHUNK = 900
# Insert order (parents first); deletes run in the reverse order.
MOVED_TABLES = [
    "project", "call", "complaint", "complaint_event", "callback_series", "callback", "adjustment",
    "instalment", "payment", "payment_allocation", "collection_step", "qa_sample", "qa_score", "notice", "delivery",
    "audit_entry",
]
# Copied into the archive so that its rows' links hold, never deleted from the live database (a digest
# carries notices that stay as well as notices that move).
REFERENCE_TABLES = ["staff", "customer", "customer_phone", "digest"]
FINISHED_CALLBACK = ("done", "missed", "cancelled")
FINISHED_PROJECT = ("settled", "archived")
# What the tables are called on screen (db archive, db archives, db copy); JSON keeps the table names.
TABLE_LABELS = {
    "project": N_("projects"), "call": N_("calls"), "complaint": N_("complaints"), "complaint_event": N_("complaint events"),
    "callback_series": N_("callback series"), "callback": N_("callbacks"), "adjustment": N_("adjustments"),
    "instalment": N_("instalments"), "payment": N_("payments"), "payment_allocation": N_("payment allocations"),
    "collection_step": N_("dunning steps"), "notice": N_("notices"), "delivery": N_("deliveries"),
    "audit_entry": N_("audit entries"), "staff": N_("staff"), "customer": N_("customers"),
    "customer_phone": N_("customer phones"), "digest": N_("digests"),
}


def table_label(name: str) -> str:
    """A table's name in the interface language (an unknown table keeps its own name)."""
    return _(TABLE_LABELS[name]) if name in TABLE_LABELS else name


class ArchiveMismatch(CsdeskError):
    """The archive file does not add up (rows, money or integrity); nothing was moved."""


def _crash_point(name: str) -> None:
    """Test hook (tests/test_archive_crash.py): die here, as a SIGKILL would, when asked to."""
    if os.environ.get("CSDESK_ARCHIVE_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _tables() -> dict[str, Any]:
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401

    return dict(SQLModel.metadata.tables)


def _chunks(ids, size: int = CHUNK):
    ids = sorted(ids)
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def cutoff_instant(before: date, tz) -> datetime:
    """The local midnight that starts `before`, in UTC: work finished before it is archived."""
    from csdesk.dates import UTC

    return datetime.combine(before, time(0), tzinfo=tz).astimezone(UTC)


# -- the plan -------------------------------------------------------------------------------------


@dataclass
class Plan:
    before: date
    cutoff_at: datetime
    moved: dict[str, set[int]]
    references: dict[str, set[int]]  # copies in the archive of rows that stay live: staff, customer, customer_phone, project
    first_at: datetime | None = None
    money: dict[str, dict[str, int]] = field(default_factory=dict)  # project id → money column → fen (live values)

    def counts(self) -> dict[str, int]:
        return {t: len(self.moved[t]) for t in MOVED_TABLES}

    def file_counts(self) -> dict[str, int]:
        """Rows of each table the archive file must hold: moved rows plus reference copies."""
        out = {t: len(self.references.get(t, ())) for t in REFERENCE_TABLES}
        for t in MOVED_TABLES:
            out[t] = len(self.moved[t]) + len(self.references.get(t, ()))
        return out

    @property
    def rows(self) -> int:
        return sum(len(v) for v in self.moved.values())


def _aware(value: datetime | None) -> datetime | None:
    from csdesk.dates import UTC

    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def make_plan(session, before: date, cutoff_at: datetime, tz) -> Plan:
    """Which rows move, computed from the database as it is in this transaction."""
    from sqlalchemy import and_, func, or_, select

    t = _tables()
    conn = session.connection()
    ex = conn.execute
    call, complaint, event, series, callback = t["call"], t["complaint"], t["complaint_event"], t["callback_series"], t["callback"]
    project, adjustment, instalment, payment = t["project"], t["adjustment"], t["instalment"], t["payment"]
    allocation, step, notice, audit = t["payment_allocation"], t["collection_step"], t["notice"], t["audit_entry"]

    m: dict[str, set[int]] = {}
    customer_of: dict[str, dict[int, int]] = {}
    project_of: dict[str, dict[int, int]] = {}
    first: list[datetime] = []
    # Times are compared in SQL (UTC columns against the cut-off), so that only integers come back:
    # converting hundreds of thousands of datetimes in Python would be most of the plan's time.

    # Calls: candidates by time; references of every call (candidate or not) that has one.
    rows = ex(select(call.c.id, call.c.customer_id, call.c.project_id).where(call.c.at < cutoff_at)).all()
    m["call"] = {r[0] for r in rows}
    customer_of["call"] = {r[0]: r[1] for r in rows}
    project_of["call"] = {r[0]: r[2] for r in rows if r[2] is not None}
    earliest = ex(select(func.min(call.c.at)).where(call.c.at < cutoff_at)).scalar()
    if earliest is not None:
        first.append(_aware(earliest))
    linked_calls = ex(select(call.c.id, call.c.project_id, call.c.complaint_id)
                      .where(or_(call.c.project_id.is_not(None), call.c.complaint_id.is_not(None)))).all()

    complaints = ex(select(complaint.c.id, complaint.c.customer_id, complaint.c.project_id, complaint.c.call_id)).all()
    m["complaint"] = set(ex(select(complaint.c.id).where(complaint.c.status == "closed", complaint.c.closed_at < cutoff_at)).scalars())
    customer_of["complaint"] = {r[0]: r[1] for r in complaints}
    project_of["complaint"] = {r[0]: r[2] for r in complaints if r[2] is not None}

    all_series = ex(select(series.c.id, series.c.customer_id, series.c.project_id, series.c.complaint_id)).all()
    m["callback_series"] = set(ex(select(series.c.id).where(
        series.c.active == False, or_(series.c.created_at.is_(None), series.c.created_at < cutoff_at))).scalars())  # noqa: E712
    customer_of["callback_series"] = {r[0]: r[1] for r in all_series}
    project_of["callback_series"] = {r[0]: r[2] for r in all_series if r[2] is not None}

    callbacks = ex(select(callback.c.id, callback.c.customer_id, callback.c.project_id, callback.c.call_id,
                          callback.c.complaint_id, callback.c.series_id)).all()
    m["callback"] = set(ex(select(callback.c.id).where(
        callback.c.status.in_(FINISHED_CALLBACK),
        or_(callback.c.closed_at < cutoff_at, and_(callback.c.closed_at.is_(None), callback.c.due_at < cutoff_at)))).scalars())
    customer_of["callback"] = {r[0]: r[1] for r in callbacks}
    project_of["callback"] = {r[0]: r[2] for r in callbacks if r[2] is not None}

    # Projects: finished stage, nothing done on them since the cut-off, adjustments accepted when settled.
    p = project.c
    late = [
        select(adjustment.c.id).where(adjustment.c.project_id == p.id, or_(
            adjustment.c.created_at >= cutoff_at, adjustment.c.done_at >= cutoff_at, adjustment.c.verdict_at >= cutoff_at,
            adjustment.c.reported_on >= before)),
        select(instalment.c.id).where(instalment.c.project_id == p.id, instalment.c.paid_on >= before),
        select(payment.c.id).where(payment.c.project_id == p.id, payment.c.received_at >= cutoff_at),
        select(step.c.id).where(step.c.project_id == p.id, step.c.at >= cutoff_at),
    ]
    unaccepted = select(adjustment.c.id).where(adjustment.c.project_id == p.id, adjustment.c.status != "accepted")
    query = select(p.id).where(
        p.stage.in_(FINISHED_PROJECT),
        or_(p.created_at.is_(None), p.created_at < cutoff_at),
        or_(p.handed_over_at.is_(None), p.handed_over_at < cutoff_at),
        or_(p.accepted_at.is_(None), p.accepted_at < cutoff_at),
        or_(p.signed_on.is_(None), p.signed_on < before),
        or_(p.stage == "archived", ~unaccepted.exists()),
        *[~q.exists() for q in late],
    )
    m["project"] = set(ex(query).scalars())
    project_customer = dict(ex(select(p.id, p.customer_id)).all())
    adj_rows = ex(select(adjustment.c.id, adjustment.c.project_id, adjustment.c.call_id)).all()
    inst_rows = ex(select(instalment.c.id, instalment.c.project_id)).all()
    pay_rows = ex(select(payment.c.id, payment.c.project_id)).all()
    step_rows = ex(select(step.c.id, step.c.project_id)).all()

    # The fixed point. Edges (child table, parent table, pairs, tie): with tie, the child moves only
    # with its parent; always, a parent moves only if every child that refers to it moves.
    edges = [
        ("call", "project", [(r[0], r[1]) for r in linked_calls if r[1] is not None], False),
        ("call", "complaint", [(r[0], r[2]) for r in linked_calls if r[2] is not None], True),
        ("complaint", "call", [(r[0], r[3]) for r in complaints if r[3] is not None], True),
        ("complaint", "project", [(r[0], r[2]) for r in complaints if r[2] is not None], False),
        ("callback_series", "complaint", [(r[0], r[3]) for r in all_series if r[3] is not None], True),
        ("callback_series", "project", [(r[0], r[2]) for r in all_series if r[2] is not None], False),
        ("callback", "call", [(r[0], r[3]) for r in callbacks if r[3] is not None], True),
        ("callback", "project", [(r[0], r[2]) for r in callbacks if r[2] is not None], False),
        ("callback", "complaint", [(r[0], r[4]) for r in callbacks if r[4] is not None], True),
        ("callback", "callback_series", [(r[0], r[5]) for r in callbacks if r[5] is not None], True),
        # An adjustment moves with its project; its call must move with it (and may not move without it).
        ("project", "call", [(r[1], r[2]) for r in adj_rows if r[2] is not None], True),
    ]
    changed = True
    while changed:
        changed = False
        for child, parent, pairs, tie in edges:
            mc, mp = m[child], m[parent]
            for c, p in pairs:
                if c in mc:
                    if tie and p not in mp:
                        mc.discard(c)
                        changed = True
                elif p in mp:
                    mp.discard(p)
                    changed = True

    moved_projects = m["project"]
    m["complaint_event"] = set()
    for ids in _chunks(m["complaint"]):
        m["complaint_event"].update(ex(select(event.c.id).where(event.c.complaint_id.in_(ids))).scalars())
    m["adjustment"] = {r[0] for r in adj_rows if r[1] in moved_projects}
    m["instalment"] = {r[0] for r in inst_rows if r[1] in moved_projects}
    m["payment"] = {r[0] for r in pay_rows if r[1] in moved_projects}
    m["collection_step"] = {r[0] for r in step_rows if r[1] in moved_projects}
    m["payment_allocation"] = set()
    for ids in _chunks(m["payment"]):
        m["payment_allocation"].update(ex(select(allocation.c.id).where(allocation.c.payment_id.in_(ids))).scalars())

    for name, when in (("complaint", complaint.c.opened_at), ("callback", callback.c.first_due_at), ("project", project.c.created_at)):
        table = t[name]
        for ids in _chunks(m[name]):
            value = ex(select(func.min(when)).where(table.c.id.in_(ids))).scalar()
            if value is not None:
                first.append(_aware(value))

    # A call's quality checks (its sample, its scores) move with it.
    for name in ("qa_sample", "qa_score"):
        m[name] = set()
        if name in t:
            table = t[name]
            for ids in _chunks(m["call"]):
                m[name].update(ex(select(table.c.id).where(table.c.call_id.in_(ids))).scalars())

    # Notices and audit rows about what moves.
    entities = [name for name in MOVED_TABLES if name not in ("notice", "delivery", "audit_entry") and m[name]]
    m["notice"] = set()
    if entities:
        for nid, entity, entity_id in ex(select(notice.c.id, notice.c.entity, notice.c.entity_id).where(notice.c.entity.in_(entities))):
            if entity_id in m[entity]:
                m["notice"].add(nid)
    # A notice's deliveries (one per notify channel) go with it; the digests that carried them are copied.
    delivery = t["delivery"]
    m["delivery"], digests = set(), set()
    for ids in _chunks(m["notice"]):
        for did, digest_id in ex(select(delivery.c.id, delivery.c.digest_id).where(delivery.c.notice_id.in_(ids))):
            m["delivery"].add(did)
            if digest_id is not None:
                digests.add(digest_id)
    m["audit_entry"] = set()
    for entity in entities:
        for ids in _chunks(m[entity]):
            m["audit_entry"].update(ex(select(audit.c.id).where(and_(audit.c.entity == entity, audit.c.entity_id.in_(ids)))).scalars())

    # Reference copies.
    refs: dict[str, set[int]] = {"staff": set(ex(select(t["staff"].c.id)).scalars())}
    ref_projects: set[int] = set()
    customers: set[int] = set()
    for name in ("call", "complaint", "callback", "callback_series"):
        for rid in m[name]:
            pid = project_of[name].get(rid)
            if pid is not None and pid not in moved_projects:
                ref_projects.add(pid)
            customers.add(customer_of[name][rid])
    refs["project"] = ref_projects
    customers.update(project_customer[pid] for pid in moved_projects | ref_projects)
    customer = t["customer"]
    if "merged_into_id" in customer.c:  # a merged customer's card leads to the one it was merged into
        todo = set(customers)
        while todo:
            found = set()
            for ids in _chunks(todo):
                found.update(ex(select(customer.c.merged_into_id).where(customer.c.id.in_(ids), customer.c.merged_into_id.is_not(None))).scalars())
            todo = found - customers
            customers |= todo
    refs["customer"] = customers
    refs["digest"] = digests
    phone = t["customer_phone"]
    refs["customer_phone"] = set()
    for ids in _chunks(customers):
        refs["customer_phone"].update(ex(select(phone.c.id).where(phone.c.customer_id.in_(ids))).scalars())

    plan = Plan(before, cutoff_at, m, refs, min(first) if first else None)
    plan.money = money_totals(conn, moved_projects)
    return plan


def money_totals(conn, project_ids) -> dict[str, dict[str, int]]:
    """Per project (id as text): contract, instalments planned and paid, payments, allocations, adjustment costs (fen)."""
    from sqlalchemy import func, select

    t = _tables()
    project, instalment, payment, allocation, adjustment = (t["project"], t["instalment"], t["payment"],
                                                            t["payment_allocation"], t["adjustment"])
    out: dict[str, dict[str, int]] = {}

    def put(pid, key, value):
        out.setdefault(str(pid), {})[key] = int(value or 0)

    for ids in _chunks(project_ids):
        for pid, v in conn.execute(select(project.c.id, project.c.contract_fen).where(project.c.id.in_(ids))):
            put(pid, "contract_fen", v)
        for pid, a, p in conn.execute(select(instalment.c.project_id, func.sum(instalment.c.amount_fen), func.sum(instalment.c.paid_fen))
                                      .where(instalment.c.project_id.in_(ids)).group_by(instalment.c.project_id)):
            put(pid, "instalments_fen", a)
            put(pid, "paid_fen", p)
        for pid, v in conn.execute(select(payment.c.project_id, func.sum(payment.c.amount_fen))
                                   .where(payment.c.project_id.in_(ids)).group_by(payment.c.project_id)):
            put(pid, "payments_fen", v)
        for pid, v in conn.execute(select(instalment.c.project_id, func.sum(allocation.c.amount_fen))
                                   .join(instalment, instalment.c.id == allocation.c.instalment_id)
                                   .where(instalment.c.project_id.in_(ids)).group_by(instalment.c.project_id)):
            put(pid, "allocated_fen", v)
        for pid, v in conn.execute(select(adjustment.c.project_id, func.sum(adjustment.c.cost_fen))
                                   .where(adjustment.c.project_id.in_(ids)).group_by(adjustment.c.project_id)):
            put(pid, "adjustment_cost_fen", v)
    return out


def _sum_money(money: dict[str, dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for values in money.values():
        for k, v in values.items():
            total[k] = total.get(k, 0) + v
    return total


# -- the archive file ------------------------------------------------------------------------------


def _archive_engine(path: Path, load: bool = False):
    """An engine on the archive file: rollback journal (a single file, readable from a read-only share),
    full sync; foreign keys off while loading (verified afterwards with foreign_key_check)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    def pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=DELETE")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA foreign_keys={'OFF' if load else 'ON'}")
        cur.close()

    def begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", pragmas)
    event.listen(engine, "begin", begin)
    return engine


def _write_file(database, plan: Plan, partial: Path, source_label: str, actor_name: str | None, now: datetime,
                progress: Callable[[str, int, int], None] | None) -> None:
    from sqlalchemy import select

    from csdesk.db import file_mode
    from csdesk.migrations import upgrade

    t = _tables()
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, file_mode())
    os.close(fd)
    engine = _archive_engine(partial, load=True)
    try:
        from csdesk.db import ARCHIVE_APPLICATION_ID

        with engine.begin() as conn:
            # Marks the file in its header: csdesk opens it without switching it to WAL (db.py).
            conn.exec_driver_sql(f"PRAGMA application_id = {ARCHIVE_APPLICATION_ID}")
        upgrade(engine)
        marker = {"source": source_label, "before": plan.before, "cutoff_at": plan.cutoff_at, "first_at": plan.first_at,
                  "created_at": now, "created_by": actor_name}
        if database.target.is_sqlite:
            engine.dispose()
            _copy_sqlite(database.target.path, partial, plan, marker, progress)
            return
        order = REFERENCE_TABLES + MOVED_TABLES
        reader = database.engine.connect()
        if reader.dialect.name == "postgresql":
            reader = reader.execution_options(isolation_level="REPEATABLE READ")
        with reader, reader.begin(), engine.begin() as writer:
            for name in order:
                table = t[name]
                ids = plan.moved.get(name, set()) | plan.references.get(name, set())
                done = 0
                if progress:
                    progress(name, 0, len(ids))
                for chunk in _chunks(ids):
                    rows = [dict(r._mapping) for r in reader.execute(select(table).where(table.c.id.in_(chunk)))]
                    if rows:
                        writer.execute(table.insert(), rows)
                    done += len(chunk)
                    if progress:
                        progress(name, done, len(ids))
                _crash_point(f"copied:{name}")
            writer.execute(t["archive_marker"].insert(), [marker])
    finally:
        engine.dispose()


def _utc_text(value: datetime | None) -> str | None:
    """A UTC time as SQLAlchemy stores it in SQLite (naive UTC, microseconds)."""
    from csdesk.dates import UTC

    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _copy_sqlite(live: Path, partial: Path, plan: Plan, marker: dict, progress) -> None:
    """SQLite to SQLite: the archive attached to a connection on the live file, each table copied by one
    INSERT … SELECT over a temporary table of ids — in one transaction that only reads the live file."""
    import sqlite3

    from csdesk.db import BUSY_TIMEOUT_MS

    t = _tables()
    con = sqlite3.connect(str(live), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys=OFF")  # checked afterwards on the archive (foreign_key_check)
        con.execute("PRAGMA temp_store=MEMORY")
        con.execute("ATTACH DATABASE ? AS arc", (str(partial),))
        con.execute("PRAGMA arc.journal_mode=DELETE")
        con.execute("PRAGMA arc.synchronous=FULL")
        con.execute("BEGIN")
        for name in REFERENCE_TABLES + MOVED_TABLES:
            ids = sorted(plan.moved.get(name, set()) | plan.references.get(name, set()))
            if progress:
                progress(name, 0, len(ids))
            con.execute(f"CREATE TEMP TABLE ids_{name} (id INTEGER PRIMARY KEY)")
            con.executemany(f"INSERT INTO temp.ids_{name} VALUES (?)", ((i,) for i in ids))
            cols = ", ".join(f'"{c.name}"' for c in t[name].columns)
            con.execute(f'INSERT INTO arc."{name}" ({cols}) SELECT {cols} FROM main."{name}" '
                        f"WHERE id IN (SELECT id FROM temp.ids_{name})")
            if progress:
                progress(name, len(ids), len(ids))
            _crash_point(f"copied:{name}")
        con.execute('INSERT INTO arc.archive_marker (source, "before", cutoff_at, first_at, created_at, created_by) '
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (marker["source"], marker["before"].isoformat(), _utc_text(marker["cutoff_at"]), _utc_text(marker["first_at"]),
                     _utc_text(marker["created_at"]), marker["created_by"]))
        con.execute("COMMIT")
    finally:
        con.close()


def verify_file(path: Path, plan: Plan) -> list[str]:
    """What is wrong with the archive file against the plan; [] when it adds up."""
    from sqlalchemy import func, select

    t = _tables()
    engine = _archive_engine(path)
    problems: list[str] = []
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            if rows != ["ok"]:
                problems.extend(_("integrity: {problem}").format(problem=r) for r in rows[:10])
            for row in conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()[:10]:
                problems.append(_("foreign key: {table} row {row} points to a missing {parent}").format(table=row[0], row=row[1], parent=row[2]))
            for name, want in plan.file_counts().items():
                got = conn.execute(select(func.count()).select_from(t[name])).scalar()
                if got != want:
                    problems.append(_("{table}: {want} rows to archive, {got} in the file").format(table=name, want=want, got=got))
            got_money = money_totals(conn, plan.moved["project"])
            if got_money != plan.money:
                bad = sorted(k for k in set(got_money) | set(plan.money) if got_money.get(k) != plan.money.get(k))
                problems.append(_("money totals differ for {count} projects (first: project id {id})").format(count=len(bad), id=bad[0]))
            if conn.execute(select(func.count()).select_from(t["archive_marker"])).scalar() != 1:
                problems.append(_("the archive marker is missing"))
    finally:
        engine.dispose()
    return problems


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


# -- the command's workflow -------------------------------------------------------------------------


@dataclass
class ArchiveResult:
    file: str
    before: date
    cutoff_at: datetime
    first_at: datetime | None
    dry_run: bool
    counts: dict[str, int]
    references: dict[str, int]
    money: dict[str, int]
    rows: int
    sha256: str | None = None
    size_bytes: int | None = None
    archive_id: int | None = None
    vacuumed: bool = False
    live_bytes_before: int | None = None
    live_bytes_after: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def archive_database(database, settings, actor_name: str | None, before: date, to: Path, now: datetime, dry_run: bool = False,
                     vacuum: bool = False, progress: Callable[[str, int, int], None] | None = None) -> ArchiveResult:
    """`db archive`: plan, write and verify FILE, then delete from the live database in one transaction."""
    import time as clock

    from csdesk.workflows import Desk, audit
    from csdesk.workflows.staff import resolve_actor

    timings: dict[str, float] = {}
    started = clock.monotonic()
    database.require()
    database.refuse_writes()  # an archive is not archived again
    tz = settings.tz
    cutoff_at = cutoff_instant(before, tz)
    if cutoff_at > now:
        raise InvalidValue(_("--before {before} is in the future; only finished work of the past is archived").format(before=before))
    to = to.expanduser().resolve()
    if database.target.path is not None and to == database.target.path:
        raise InvalidValue(_("the archive file must not be the database itself"))
    if not to.parent.is_dir():
        raise InvalidValue(_("folder {folder} does not exist").format(folder=to.parent))
    finish_pending(database)
    if to.exists():
        raise Conflict(_("{file} already exists; choose a new file name for the archive").format(file=to))

    def plan_it(session):
        desk = Desk(session=session, settings=settings, now=now, actor=resolve_actor(session, actor_name))
        desk.require_rank("manager", _("archiving finished work"))
        return make_plan(session, before, cutoff_at, tz), desk.actor

    plan, actor = database.read(plan_it)
    timings["plan"] = clock.monotonic() - started
    result = ArchiveResult(str(to), before, cutoff_at, plan.first_at, dry_run, plan.counts(),
                           {k: len(v) for k, v in plan.references.items()}, _sum_money(plan.money), plan.rows)
    if dry_run or plan.rows == 0:
        if plan.rows == 0 and not dry_run:
            raise Conflict(_("nothing finished before {before} to archive; no file was written").format(before=before))
        return result

    partial = _partial(to)
    if partial.exists():
        partial.unlink()  # left by an archive run that died before its commit: never recorded, never valid
    source_label = database.target.label
    t0 = clock.monotonic()
    try:
        _write_file(database, plan, partial, source_label, actor.name, now, progress)
        timings["write"] = clock.monotonic() - t0
        t0 = clock.monotonic()
        problems = verify_file(partial, plan)
        if problems:
            raise ArchiveMismatch(_("the archive file does not add up; nothing was moved"), details=problems)
        _fsync(partial)
        timings["verify"] = clock.monotonic() - t0
        _crash_point("verified")
        sha = _sha256(partial)
        size = partial.stat().st_size
        live_before = _file_size(database)

        t0 = clock.monotonic()

        def commit(session):
            from sqlalchemy import delete

            from csdesk.models import Archive

            again = make_plan(session, before, cutoff_at, tz)
            if again.moved != plan.moved or again.money != plan.money:
                changed = [name for name in MOVED_TABLES if again.moved[name] != plan.moved[name]]
                raise Conflict(_("the database changed while the archive was written (in: {tables}); nothing was moved").format(
                    tables=_(", ").join(table_label(c) for c in changed) or _("money")),
                               hint=_("run the same db archive command again"))
            t = _tables()
            conn = session.connection()
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB for this one big transaction
            for name in reversed(MOVED_TABLES):
                table = t[name]
                if sqlite:
                    # One statement per table over a temporary table of ids, instead of thousands of IN lists.
                    conn.exec_driver_sql(f"CREATE TEMP TABLE gone_{name} (id INTEGER PRIMARY KEY)")
                    if plan.moved[name]:
                        conn.exec_driver_sql(f"INSERT INTO temp.gone_{name} VALUES (?)", [(i,) for i in sorted(plan.moved[name])])
                    conn.exec_driver_sql(f'DELETE FROM "{name}" WHERE id IN (SELECT id FROM temp.gone_{name})')
                    conn.exec_driver_sql(f"DROP TABLE temp.gone_{name}")
                else:
                    for chunk in _chunks(plan.moved[name]):
                        conn.execute(delete(table).where(table.c.id.in_(chunk)))
                _crash_point(f"deleted:{name}")
            record = Archive(file=str(to), before=before, cutoff_at=cutoff_at, first_at=plan.first_at, created_at=now,
                             created_by_id=actor.id, rows=plan.rows, counts=json.dumps(plan.counts(), sort_keys=True),
                             money=json.dumps(_sum_money(plan.money), sort_keys=True), sha256=sha, size_bytes=size)
            session.add(record)
            desk = Desk(session=session, settings=settings, now=now, actor=actor)
            audit(desk, "db.archive", record)
            session.flush()
            return record.id

        result.archive_id = _write_live(database, commit)
        timings["delete"] = clock.monotonic() - t0
    except BaseException:
        # Before the commit nothing is recorded: the partial file is not an archive.
        if result.archive_id is None and partial.exists():
            partial.unlink()
        raise
    _crash_point("committed")
    partial.replace(to)
    _fsync(to.parent)
    result.sha256, result.size_bytes = sha, size
    result.live_bytes_before = live_before
    if vacuum and database.target.is_sqlite:
        t0 = clock.monotonic()
        import sqlite3

        from csdesk.db import BUSY_TIMEOUT_MS

        con = sqlite3.connect(str(database.target.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:  # outside any transaction, as VACUUM must be
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("VACUUM")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        result.vacuumed = True
        timings["vacuum"] = clock.monotonic() - t0
    result.live_bytes_after = _file_size(database)
    timings["total"] = clock.monotonic() - started
    result.seconds = {k: round(v, 1) for k, v in timings.items()}
    return result


def _write_live(database, fn):
    """The live transaction: FK violations (a row that stays still refers to one that would go) refuse cleanly."""
    from sqlalchemy.exc import IntegrityError

    try:
        return database.write(fn)
    except IntegrityError as exc:
        first = (str(getattr(exc, "orig", exc)).strip().splitlines() or ["integrity error"])[0]
        raise CsdeskError(_("the live database refused the move ({problem}); nothing was moved").format(problem=first)) from None


def _file_size(database) -> int | None:
    if not database.target.is_sqlite or database.target.path is None:
        return None
    total = 0
    for suffix in ("", "-wal"):
        p = Path(f"{database.target.path}{suffix}")
        if p.exists():
            total += p.stat().st_size
    return total


def finish_pending(database) -> list[str]:
    """Finish an archive whose live commit happened but whose FILE.partial was not yet renamed (a crash
    in between): the record's checksum must match. Returns the files finished."""
    from sqlmodel import select

    from csdesk.models import Archive

    done = []
    records = database.read(lambda s: [(a.file, a.sha256) for a in s.exec(select(Archive)).all()])
    for file, sha in records:
        path = Path(file)
        partial = _partial(path)
        if not path.exists() and partial.exists() and _sha256(partial) == sha:
            try:
                partial.replace(path)
                _fsync(path.parent)
            except OSError:
                continue  # a read-only folder: the next run from a writable place finishes it
            done.append(file)
    return done


# -- listing, and what reports say -----------------------------------------------------------------


@dataclass
class ArchiveInfo:
    id: int
    file: str
    before: date
    first_at: datetime | None
    cutoff_at: datetime
    created_at: datetime
    created_by: str | None
    rows: int
    counts: dict[str, int]
    money: dict[str, int]
    sha256: str
    size_bytes: int
    present: bool  # the file is where the record says
    intact: bool | None  # its checksum matches (None: not checked)


def list_archives(desk, check: bool = False) -> list[ArchiveInfo]:
    from sqlmodel import select

    from csdesk.models import Archive, Staff

    rows = desk.session.exec(select(Archive, Staff.name).outerjoin(Staff, Staff.id == Archive.created_by_id)
                             .order_by(Archive.cutoff_at, Archive.id)).all()
    out = []
    for a, name in rows:
        path = Path(a.file)
        present = path.exists()
        intact = (_sha256(path) == a.sha256) if (check and present) else None
        out.append(ArchiveInfo(a.id, a.file, a.before, a.first_at, a.cutoff_at, a.created_at, name, a.rows,
                               json.loads(a.counts), json.loads(a.money), a.sha256, a.size_bytes, present, intact))
    return out


@dataclass
class ArchivedNote:
    file: str
    before: date
    message: str


def archived_in(session, start: datetime, end: datetime) -> list[ArchivedNote]:
    """The archives holding work of [start, end): a report over that time says so and names the file.

    Also on an archive file itself: it says that it is one, and which period it holds.
    """
    from sqlalchemy.exc import DBAPIError
    from sqlmodel import select

    from csdesk.models import Archive, ArchiveMarker

    try:
        rows = session.exec(select(Archive).where(Archive.cutoff_at > start)
                            .where((Archive.first_at.is_(None)) | (Archive.first_at < end))
                            .order_by(Archive.cutoff_at)).all()
        marker = session.exec(select(ArchiveMarker)).first()
    except DBAPIError:  # a schema from before archives
        return []
    notes = []
    for a in rows:
        notes.append(ArchivedNote(a.file, a.before, _(
            "Finished work from before {before} was archived to {file} ({rows} rows); the figures here leave it out. "
            "For the full figures run the report on the archive too: csdesk --db {file} report …").format(
                before=a.before, file=a.file, rows=a.rows)))
    if marker is not None:
        notes.append(ArchivedNote("", marker.before, _(
            "This is an archive: it holds only the work finished before {before} that was moved out of {source}; "
            "open and later work is in the live database.").format(before=marker.before, source=marker.source)))
    return notes
