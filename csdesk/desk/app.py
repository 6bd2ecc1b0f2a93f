"""The agent's desk (`csdesk desk`): one full-screen app for the whole call loop.

Screens compose widgets; every action calls the same workflow as the command line, through
`Backend` (one short transaction each, as the person acting). A refusal shows its one line in the
status bar; nothing here decides a rule. Text from people is shown as text (`rich.text.Text`).

- Caller (the first screen): type digits in any format or part of a name; matches appear as you type.
  Enter opens the customer card; an unknown number offers to create the customer.
- Customer card: details, open complaints with their deadline, callbacks, projects and money, the last
  calls; one key each to log a call, open a complaint, schedule a callback, record a visit's outcome,
  record a payment, add a note.
- My queue (F2): today's work (`csdesk today`); Enter opens a complaint or records a visit.
- Team board (F3, supervisors and above): deadlines near or past, missed callbacks, today's
  escalations, unassigned work.
- Complaint: details, deadlines, timeline; acknowledge, hold, resume, escalate, resolve, reopen, note.
The module is imported by `csdesk desk` once the interface language is chosen, so the labels of its
key bindings (class attributes) are in that language.
Other people's writes appear within the refresh interval (`desk.refresh`, 5 s); forms are separate
screens, so a refresh never touches what the user is typing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, Static

from csdesk.i18n import _


def plain(value: Any) -> Text:
    """A value from a person or the database, as text (never markup); control characters made visible."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else f"\\x{ord(ch):02x}" for ch in text)
    return Text(text)


TIERS = {"standard": "普通", "vip": "VIP", "key": "重点"}


def tier_label(tier: str) -> str:
    from csdesk.i18n import label

    return label(tier, TIERS.get(tier, tier))


def kind_label(kind: str) -> str:
    from csdesk.i18n import label
    from csdesk.workflows.calls import KINDS

    return label(kind, KINDS.get(kind, kind))


def short(value, tz) -> str:
    from csdesk import dates

    return dates.to_local(value, tz).strftime("%m-%d %H:%M") if value else ""


def left_text(seconds: int | None) -> Text:
    from datetime import timedelta

    from csdesk.workflows.complaints import fmt_business

    if seconds is None:
        return Text("")
    text = fmt_business(timedelta(seconds=abs(seconds)))
    if seconds < 0:
        return Text(_("overdue {time}").format(time=text), style="bold red")
    return Text(text, style="yellow" if seconds < 2 * 3600 else "")


def _cell_key(cell: Any) -> tuple:
    return (cell.plain, str(cell.style), tuple(cell.spans)) if isinstance(cell, Text) else (cell,)


def fill(table: DataTable, rows: list[tuple[tuple, str | None]]) -> None:
    """Replace a table's rows in one go (one layout and one repaint, not one per row); rows are (cells, key).
    Rows the same as those shown are left as they are: the table keeps its drawn lines (a refresh that
    changed nothing redraws nothing)."""
    shown = tuple((tuple(_cell_key(c) for c in cells), key) for cells, key in rows)
    if getattr(table, "_desk_rows", None) == shown and table.row_count == len(rows):
        return
    table._desk_rows = shown
    table.clear()
    if rows:
        keys = [key for _cells, key in rows]
        if any(key is not None for key in keys):
            for cells, key in rows:  # add_rows takes no keys: the keyed rows one by one, in one batch
                table.add_row(*cells, key=key)
        else:
            table.add_rows([cells for cells, _key in rows])
    settle_size(table)


def settle_size(table: DataTable) -> None:
    """Measure the new rows now, as the table would when idle: otherwise the screen is laid out and drawn
    once with the size and column widths of the rows before, then again when the table has measured
    (two full drawings of the screen after every fill; one now)."""
    if getattr(table, "_require_update_dimensions", False) and hasattr(table, "_update_dimensions"):
        table._require_update_dimensions = False
        new_rows = table._new_rows.copy()
        table._new_rows.clear()
        table._update_dimensions(new_rows)


def keep_styles(screen: Screen, event) -> None:
    """A kept screen shown again keeps the styles it had: Textual applies the whole stylesheet to every
    widget of a screen pushed again (and the tables then draw every cell anew), though nothing the styles
    depend on changed while it was hidden (the desk never changes classes or the theme of a hidden screen).
    Runs before Textual's own handler (subclass first), which reads `refresh_styles`."""
    if getattr(screen, "_desk_shown", False):
        event.refresh_styles = False
    screen._desk_shown = True


class KeyBar(Static):
    """The keys of the screen, in the interface language, on the bottom line. Written once when the screen is
    composed: Textual's Footer rebuilds its widgets at every change of focus or screen, which cost more than
    anything else the desk does after a key."""

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $text; }
    """

    def on_mount(self) -> None:
        seen, text = set(), Text(no_wrap=True, overflow="ellipsis")
        for binding in [*type(self.screen).BINDINGS, *type(self.app).BINDINGS]:
            if not isinstance(binding, Binding) or not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            key = binding.key.split(",")[0]
            if text:
                text.append("  ")
            shown = self.app.get_key_display(Binding(key, binding.action))
            text.append(shown.upper() if len(shown) <= 3 and shown[:1] == "f" else shown, style="bold")
            text.append(" " + binding.description)
        self.update(text)


# -- forms ------------------------------------------------------------------------------------------


@dataclass
class Field:
    key: str
    label: str
    default: str = ""
    placeholder: str = ""


class FormScreen(Screen[dict | None]):
    """A small form: one input per field; Enter on the last field (or Ctrl+S) submits, Esc cancels.
    A screen of its own, not a modal one: the form covers nearly the whole 80×24 screen anyway, and a modal
    screen draws the whole screen below it again (dimmed) when it opens and closes."""

    BINDINGS = [Binding("escape", "cancel", _("Cancel")), Binding("ctrl+s", "submit", _("Save"))]
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    #form { width: 78; height: auto; max-height: 22; border: round $accent; padding: 0 1; background: $panel; }
    #form-title { text-style: bold; margin-bottom: 1; }
    .row { height: 1; margin-bottom: 1; }
    .row Label { width: 16; }
    .row Input { width: 1fr; height: 1; border: none; padding: 0 1; background: $boost; }
    .row Input:focus { background: $accent 30%; }
    #form-help { color: $text-muted; }
    """

    def __init__(self, title: str, fields: list[Field]):
        super().__init__()
        self.form_title = title
        self.fields = fields

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static(Text(self.form_title), id="form-title")
            for f in self.fields:
                with Horizontal(classes="row"):
                    yield Label(Text(f.label))
                    yield Input(value=f.default, placeholder=f.placeholder, id=f"field-{f.key}")
            yield Label(Text(_("Enter on the last field or Ctrl+S saves; Esc cancels.")), id="form-help")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def on_screen_resume(self, event) -> None:
        keep_styles(self, event)
        self.query(Input).first().focus()

    def shape(self) -> tuple:
        """Forms of the same shape (the same fields) are one kept screen, refilled for each use."""
        return tuple((f.key, f.label) for f in self.fields)

    def refill(self, title: str, fields: list[Field]) -> None:
        """Used again (composing a form costs more than filling it): the new title, defaults and hints."""
        self.form_title, self.fields = title, fields
        self.query_one("#form-title", Static).update(Text(title))
        for f in fields:
            box = self.query_one(f"#field-{f.key}", Input)
            box.value, box.placeholder = f.default, f.placeholder
            box.cursor_position = len(f.default)
        self.query_one("#form", VerticalScroll).scroll_home(animate=False)

    @on(Input.Submitted)
    def next_or_submit(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self.action_submit()

    def action_submit(self) -> None:
        self.dismiss({f.key: self.query_one(f"#field-{f.key}", Input).value.strip() for f in self.fields})

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    BINDINGS = [Binding("y", "yes", _("Yes")), Binding("n,escape", "no", _("No"))]
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    #confirm { width: 60; height: auto; border: round $accent; padding: 1 2; background: $panel; }
    """

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(Text(self.question))
            with Horizontal():
                yield Button(_("Yes (y)"), id="yes", variant="primary")
                yield Button(_("No (n)"), id="no")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


# -- screens ----------------------------------------------------------------------------------------


class DeskScreen(Screen):
    """What every screen shares: a status line, the refresh, running an action through a workflow."""

    status_id = "status"

    @property
    def backend(self):
        return self.app.backend

    @property
    def tz(self):
        return self.app.backend.settings.tz

    def status(self, message: str, error: bool = False) -> None:
        self.app.show_status(message, error)

    under_form = False  # a form or a question was on top: back from it, nothing is reloaded (an action reloads)
    preloaded = False  # filled before it was shown (App.open_customer): no second read when it appears

    def on_screen_resume(self, event) -> None:
        # The one handler of ScreenResume on every desk screen: Textual calls the handler of each class in
        # the MRO, so a subclass's own `on_screen_resume` would run besides this one (a second read).
        keep_styles(self, event)
        if self.under_form or self.preloaded:
            self.under_form = self.preloaded = False
            return
        self.refresh_data()

    def refresh_data(self) -> None:  # each screen reloads what it shows
        pass

    def act(self, fn: Callable[[Any], Any], done: Callable[[Any], str], after: Callable[[Any], None] | None = None) -> None:
        """Run a write workflow; show its one-line result, or the refusal; then `after(result)` shows what
        changed (by default the screen is reloaded)."""
        self.app.perform(fn, done, after or (lambda _result: self.refresh_data()))

    def form(self, title: str, fields: list[Field], build: Callable[[dict], Callable[[Any], Any]],
             done: Callable[[Any], str], after: Callable[[Any], None] | None = None) -> None:
        """Ask with a form, then act. `build(values)` reads what was typed (the time, an amount, a
        duration …) and returns the write to run; a value that does not parse shows its one-line refusal
        and nothing is written; Esc does nothing."""
        def answered(values: dict | None) -> None:
            if values is None:
                return
            try:
                write = build(values)
            except Exception as exc:  # noqa: BLE001 — a value that does not parse: its refusal
                self.app.show_error(exc)
                return
            self.act(write, done, after)

        self.app.push_screen(FormScreen(title, fields), answered)

    def when(self, values: dict, key: str = "at"):
        """The form's time ("today 9:30", "-2h", 昨天15点); empty: now (read when the write runs)."""
        return self.backend.parse_when(values.get(key))


class CallerScreen(DeskScreen):
    """Type a number (any format) or part of a name; the matches appear as you type."""

    BINDINGS = [
        Binding("f2", "app.queue", _("My queue")),
        Binding("f3", "app.team", _("Team board")),
        Binding("down", "to_table", _("Matches"), show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text(_("Caller: number in any format, or part of a name; Enter opens the card")), classes="title")
        yield Input(placeholder=_("e.g. 138 1234 5678, +86-138…, 张"), id="caller")
        yield DataTable(id="matches", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#matches", DataTable)
        table.add_columns(_("Code"), _("Name"), _("Tier"), _("Phone"), _("Company"))
        self.query_one("#caller", Input).focus()

    _wanted: str = ""  # what the caller box holds now
    _looking = False  # a lookup is running (only one at a time: typing never queues work)
    _shown: object = None  # the term whose matches are on screen

    @on(Input.Changed, "#caller")
    def typed(self, event: Input.Changed) -> None:
        self._wanted = event.value.strip()
        if not self._looking:
            self._looking = True
            self.lookup()

    @work(thread=True, group="lookup")
    def lookup(self) -> None:
        """Look up what the box holds; keys typed meanwhile only change what is wanted, and the one lookup
        running takes the newest term when it is done (the terms in between are never looked up)."""
        from csdesk.workflows.customers import lookup_callers

        try:
            while True:
                term = self._wanted
                if term == self._shown:
                    return
                try:
                    rows = self.backend.read(lambda desk: lookup_callers(desk, term, limit=20)) if term else []
                except Exception as exc:  # noqa: BLE001 — a refusal is shown in the status line
                    self._shown = term  # not tried again until the box changes
                    self.app.deliver(self.app.show_error, exc)
                    return
                if term == self._wanted:  # still what the box holds: show it
                    self._shown = term
                    self.app.deliver(self.show_matches, rows, len(rows))
        finally:
            self._looking = False
            if self._wanted != self._shown:  # typed after the loop looked for the last time
                self.app.deliver(self._again)

    def _again(self) -> None:
        if not self._looking and self._wanted != self._shown:
            self._looking = True
            self.lookup()

    def show_matches(self, rows, total) -> None:
        table = self.query_one("#matches", DataTable)
        before = [c.code for c in getattr(self, "matches", [])]
        self.matches = rows
        if before == [c.code for c in rows] and rows:  # the same customers: nothing to redraw
            return
        fill(table, [((c.code, plain(c.display_name), tier_label(c.tier), ", ".join(c.phones[:2]), plain(c.company or "")), c.code)
                     for c in rows])

    def action_to_table(self) -> None:
        self.query_one("#matches", DataTable).focus()

    @on(Input.Submitted, "#caller")
    def submitted(self, event: Input.Submitted) -> None:
        rows = getattr(self, "matches", [])
        table = self.query_one("#matches", DataTable)
        if rows:
            index = table.cursor_row if 0 <= table.cursor_row < len(rows) else 0
            self.app.open_customer(rows[index].code)
            return
        digits = "".join(ch for ch in event.value if ch.isdigit())
        if len(digits) >= 7:
            self.offer_new(event.value.strip())
        else:
            self.status(_("No customer matches {term!r}").format(term=event.value), error=True)

    @on(DataTable.RowSelected, "#matches")
    def chosen(self, event: DataTable.RowSelected) -> None:
        self.app.open_customer(str(event.row_key.value))

    def offer_new(self, number: str) -> None:
        def build(values):
            from csdesk.workflows.customers import add_customer

            return lambda desk: add_customer(desk, values.get("name") or None, [number])

        self.form(_("New customer for {number}").format(number=number), [Field("name", _("Name"), "", _("may stay empty"))],
                  build, lambda info: self.app.open_customer(info.code) or _("Customer {code} created").format(code=info.code))


def card_data(desk, code: str):
    """What the customer card shows, and only that: the customer, the last five calls, the callbacks and
    projects sections, and their open complaints with the live deadline."""
    from csdesk.workflows.complaints import list_complaints
    from csdesk.workflows.customer_card import customer_view

    view = customer_view(desk, code, calls=5, sections=("callbacks", "projects"), count=False)
    return view, list_complaints(desk, customer=view.customer.code, limit=20)


class CustomerScreen(DeskScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back")),
        Binding("l", "log_call", _("Log call")),
        Binding("o", "open_complaint", _("Complaint")),
        Binding("b", "callback", _("Callback")),
        Binding("v", "visit", _("Visit outcome")),
        Binding("p", "payment", _("Payment")),
        Binding("n", "note", _("Note")),
        Binding("c", "correct_call", _("Correct call")),
        Binding("x", "void_call", _("Void call")),
        Binding("f2", "app.queue", _("My queue")),
    ]

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.view = None

    def switch_to(self, code: str) -> None:
        """The same screen, kept between visits, for another customer: emptied first, so that nothing of
        the customer before shows while this one's card loads."""
        self.code, self.view = code, None
        if self.is_mounted:
            self.query_one("#card", Static).update("")
            for selector in ("#complaints", "#callbacks", "#projects", "#calls"):
                self._reset(selector)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="card")
            yield Static(Text(_("Open complaints (Enter opens)")), classes="title")
            yield DataTable(id="complaints", cursor_type="row")
            yield Static(Text(_("Callbacks")), classes="title")
            yield DataTable(id="callbacks", cursor_type="row")
            yield Static(Text(_("Projects and money")), classes="title")
            yield DataTable(id="projects", cursor_type="row")
            yield Static(Text(_("Last calls")), classes="title")
            yield DataTable(id="calls", cursor_type="row")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#complaints", DataTable).add_columns("#", _("Status"), _("Level"), _("Next deadline"), _("Left"), _("Summary"))
        self.query_one("#callbacks", DataTable).add_columns("#", _("Due"), _("Purpose"), _("Status"), _("Assignee"), _("Note"))
        self.query_one("#projects", DataTable).add_columns(_("Project"), _("Name"), _("Stage"), _("Outstanding"), _("Overdue"), _("Owner"))
        self.query_one("#calls", DataTable).add_columns("#", _("Time"), _("Kind"), _("Agent"), _("Summary"))
        self.refresh_data()

    @work(thread=True, exclusive=True, group="card")
    def refresh_data(self) -> None:
        code = self.code
        try:
            view, complaints = self.backend.read(lambda desk: card_data(desk, code))
        except Exception as exc:  # noqa: BLE001
            self.app.deliver(self.app.show_error, exc)
            return
        if code == self.code:  # the screen has not moved on to another customer meanwhile
            self.app.deliver(self.show, view, complaints)

    def show(self, view, complaints) -> None:
        self.view = view
        c = view.customer
        card = Text()
        card.append(f"{c.code} ", style="bold")
        card.append_text(plain(c.display_name))
        card.append(f"  {tier_label(c.tier)}  ")
        card.append(", ".join(c.phones))
        if c.company:
            card.append("  ")
            card.append_text(plain(c.company))
        if c.manager:
            card.append("  " + _("account manager {name}").format(name=c.manager))
        self.query_one("#card", Static).update(card)
        fill(self.query_one("#complaints", DataTable), [
            ((str(row.id), row.status_label, f"L{row.level} {row.severity_label}", short(row.next_due, self.tz),
              left_text(row.business_left_s), plain(row.summary)), str(row.id)) for row in complaints.rows])
        # The customer card's sections, by their stable keys (customer_card.py).
        fill(self.query_one("#callbacks", DataTable), [
            ((str(r.get("id")), r.get("when", ""), r.get("purpose", ""), plain(r.get("status", "")),
              plain(r.get("assignee", "")), plain(r.get("note", ""))), str(r.get("id"))) for r in view.sections.get("callbacks", [])])
        fill(self.query_one("#projects", DataTable), [
            ((r.get("code", ""), plain(r.get("name", "")), plain(r.get("stage", "")), r.get("outstanding", ""),
              Text(str(r.get("overdue", "")), style="bold red" if str(r.get("overdue", "0.00")) not in ("0.00", "") else ""),
              plain(r.get("owner", ""))), r.get("code")) for r in view.sections.get("projects", [])])
        fill(self.query_one("#calls", DataTable), [(self._call_row(c), str(c.id)) for c in view.calls])

    def _call_row(self, call) -> tuple:
        return (str(call.id), short(call.at, self.tz), kind_label(call.kind), plain(call.agent or ""), plain(call.summary))

    def _logged(self, logged) -> None:
        """A call logged from the card changes only the last calls (the refresh brings the rest): the new
        call goes on top of the list, no reload."""
        call = logged.call
        if self.view is None or call.customer_code != self.code:
            self.refresh_data()
            return
        calls = sorted([call, *[c for c in self.view.calls if c.id != call.id]], key=lambda c: (c.at, c.id), reverse=True)
        self.view.calls[:] = calls[:5]  # the card shows the last five
        fill(self.query_one("#calls", DataTable), [(self._call_row(c), str(c.id)) for c in self.view.calls])

    def _reset(self, selector: str) -> DataTable:
        table = self.query_one(selector, DataTable)
        fill(table, [])
        return table

    @on(DataTable.RowSelected, "#complaints")
    def open_complaint_row(self, event: DataTable.RowSelected) -> None:
        self.app.open_complaint(int(event.row_key.value))

    def _selected(self, selector: str) -> str | None:
        table = self.query_one(selector, DataTable)
        if table.row_count == 0:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 — no row under the cursor
            return None

    def _phone(self) -> str:
        return self.view.customer.phones[0] if self.view and self.view.customer.phones else self.code

    def action_log_call(self) -> None:
        def build(values):
            from csdesk import dates
            from csdesk.workflows.call_intake import log_call

            at = self.when(values)
            duration = dates.parse_duration(values["duration"]) if values["duration"] else None
            resolved = values["resolved"].lower() in ("y", "yes", "是", "1", "true")
            return lambda desk: log_call(desk, self._phone(), values["kind"], values["summary"], at=at,
                                         duration=duration, resolved=resolved, brief=False)

        self.form(_("Log a call"), [
            Field("kind", _("Kind"), "inquiry", _("inquiry 咨询, complaint 投诉, repair 报修, suggestion 建议, payment 催款, other")),
            Field("summary", _("Summary"), "", _("what was said")),
            Field("duration", _("Duration"), "", "5m30s"),
            Field("resolved", _("Resolved?"), "n", _("resolved on first contact: y/n")),
            Field("at", _("When"), "", _("empty: now; today 9:30, -2h")),
        ], build, lambda logged: _("Call #{id} logged").format(id=logged.call.id), self._logged)

    def action_open_complaint(self) -> None:
        def build(values):
            from csdesk.workflows.complaints import open_complaint

            at = self.when(values)
            return lambda desk: open_complaint(desk, customer=self.code, severity=values["severity"], category=values["category"],
                                               summary=values["summary"], project=values["project"] or None, at=at)

        self.form(_("Open a complaint"), [
            Field("severity", _("Severity"), "normal", _("normal 一般, serious 较重, major 重大")),
            Field("category", _("Category"), "other", _("quality, installation, attitude, delay, billing, other")),
            Field("summary", _("Summary"), "", _("what the customer complains about")),
            Field("project", _("Project"), "", _("project code, may stay empty")),
            Field("at", _("When"), "", _("empty: now; today 9:30, -2h")),
        ], build, lambda info: _("Complaint #{id} opened, assigned to {name}").format(id=info.id, name=info.assignee))

    def action_callback(self) -> None:
        def build(values):
            from csdesk.workflows.callbacks import due_text, schedule_callback
            from csdesk.workflows.visit_rules import load_rules

            def write(desk):  # the due time is read against the clock of the write
                rules = load_rules(desk.settings)
                due = due_text(values["due"], desk.tz, desk.now, rules.default_time)
                return schedule_callback(desk, due, customer=self.code, note=values["note"] or None, assignee=values["assignee"] or None)

            return write

        self.form(_("Schedule a callback"), [
            Field("due", _("Due"), "", _("明天10点, 下周一, 3天后, today 15:00, fri 10:00")),
            Field("note", _("Note"), "", _("what the call is for")),
            Field("assignee", _("Who calls"), "", _("a staff name; empty: you")),
        ], build, lambda made: _("Callback #{id} scheduled").format(id=made.callbacks[0].id))

    def action_visit(self) -> None:
        callback_id = self._selected("#callbacks")
        if callback_id is None:
            self.status(_("Choose a callback in the list first"), error=True)
            return
        self.app.record_visit(int(callback_id), self)

    def action_payment(self) -> None:
        code = self._selected("#projects")
        if code is None:
            self.status(_("Choose a project in the list first"), error=True)
            return

        def build(values):
            from csdesk.money import parse_amount
            from csdesk.workflows.payments import record_payment

            amount = parse_amount(values["amount"])
            at = self.when(values)
            return lambda desk: record_payment(desk, code, amount, instalment=values["instalment"] or None, at=at,
                                               ref=values["ref"] or None)

        self.form(_("Record a payment for {code}").format(code=code), [
            Field("amount", _("Amount"), "", "86000, 8.6万"),
            Field("instalment", _("Instalment"), "", _("empty: the oldest unpaid first")),
            Field("ref", _("Reference"), "", _("bank reference, receipt number")),
            Field("at", _("When"), "", _("empty: now; today 9:30, -2h")),
        ], build, lambda paid: _("Payment #{id} recorded for {code}").format(id=paid.id, code=paid.project_code))

    def action_note(self) -> None:
        complaint_id = self._selected("#complaints")
        if complaint_id is None:
            self.status(_("Choose a complaint in the list first"), error=True)
            return
        self.app.note_on_complaint(int(complaint_id), self)

    def action_correct_call(self) -> None:
        call_id = self._selected("#calls")
        if call_id is None:
            self.status(_("Choose a call in the list first"), error=True)
            return
        call = next((c for c in self.view.calls if str(c.id) == call_id), None) if self.view else None

        def build(values):
            from csdesk import dates
            from csdesk.workflows.calls import edit_call

            changes = {k: v for k, v in values.items() if v}
            at = self.when(changes)
            duration = dates.parse_duration(changes["duration"]) if "duration" in changes else None
            return lambda desk: edit_call(desk, int(call_id), kind=changes.get("kind"), summary=changes.get("summary"),
                                          customer=changes.get("customer"), at=at, duration=duration)

        self.form(_("Correct call #{id} (empty: unchanged)").format(id=call_id), [
            Field("kind", _("Kind"), "", call.kind if call else ""),
            Field("summary", _("Summary"), "", call.summary if call else ""),
            Field("customer", _("Customer"), "", _("move it to this customer (code or phone)")),
            Field("at", _("When"), "", _("when it really happened")),
            Field("duration", _("Duration"), "", "5m30s"),
        ], build, lambda info: _("Call #{id} corrected").format(id=info.id))

    def action_void_call(self) -> None:
        call_id = self._selected("#calls")
        if call_id is None:
            self.status(_("Choose a call in the list first"), error=True)
            return

        def build(values):
            from csdesk.workflows.calls import void_call

            return lambda desk: void_call(desk, int(call_id), values["reason"])

        self.form(_("Void call #{id}").format(id=call_id), [Field("reason", _("Why"), "", _("logged twice, wrong customer …"))],
                  build, lambda info: _("Call #{id} voided").format(id=info.id))


class ComplaintScreen(DeskScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back")),
        Binding("a", "ack", _("Acknowledge")),
        Binding("h", "hold", _("Hold")),
        Binding("r", "resume", _("Resume")),
        Binding("e", "escalate", _("Escalate")),
        Binding("s", "resolve", _("Resolve")),
        Binding("o", "reopen", _("Reopen")),
        Binding("n", "note", _("Note")),
        Binding("E", "edit", _("Correct")),
        Binding("X", "void", _("Void")),
    ]

    def __init__(self, complaint_id: int):
        super().__init__()
        self.complaint_id = complaint_id

    def switch_to(self, complaint_id: int) -> None:
        self.complaint_id = complaint_id
        if self.is_mounted:
            self.query_one("#head", Static).update("")
            for selector in ("#deadlines", "#timeline"):
                fill(self.query_one(selector, DataTable), [])

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="head")
            yield Static(Text(_("Deadlines")), classes="title")
            yield DataTable(id="deadlines", cursor_type="row")
            yield Static(Text(_("Timeline")), classes="title")
            yield DataTable(id="timeline", cursor_type="row")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#deadlines", DataTable).add_columns(_("Clock"), _("Due"), _("State"), _("Left"))
        self.query_one("#timeline", DataTable).add_columns(_("Time"), _("Who"), _("What"), _("Text"))
        self.refresh_data()

    @work(thread=True, exclusive=True, group="complaint")
    def refresh_data(self) -> None:
        from csdesk.workflows.complaints import complaint_view

        complaint_id = self.complaint_id
        try:
            view = self.backend.read(lambda desk: complaint_view(desk, complaint_id))
        except Exception as exc:  # noqa: BLE001
            self.app.deliver(self.app.show_error, exc)
            return
        if complaint_id == self.complaint_id:
            self.app.deliver(self.show, view)

    def show(self, view) -> None:
        c = view.complaint
        head = Text()
        head.append(f"#{c.id} {c.status_label}  L{c.level} {c.severity_label}  {c.category_label}  {c.customer_code} ", style="bold")
        head.append_text(plain(c.customer_name or ""))
        head.append("\n" + _("handled by {assignee}, owned by {owner}").format(assignee=c.assignee, owner=c.owner) + "\n")
        head.append_text(plain(c.summary))
        self.query_one("#head", Static).update(head)
        fill(self.query_one("#deadlines", DataTable), [
            ((plain(d.label), short(d.due, self.tz), plain(d.state),
              left_text(d.business_left_s) if d.state == "running" else Text(d.business_left)), None) for d in view.deadlines])
        fill(self.query_one("#timeline", DataTable), [
            ((short(e.at, self.tz), plain(e.actor), plain(e.label), plain(e.text)), None) for e in view.events])

    def _ask(self, title: str, label: str, fn: Callable[[Any, str, Any], Any], message: str, required: bool = True) -> None:
        def build(values):
            at, text = self.when(values), values["text"]
            return lambda desk: fn(desk, text, at)

        self.form(title, [Field("text", label), Field("at", _("When"), "", _("empty: now; today 9:30, -2h"))],
                  build, lambda _result: message.format(id=self.complaint_id))

    def action_ack(self) -> None:
        from csdesk.workflows.complaints import ack_complaint

        self._ask(_("Acknowledge complaint #{id}").format(id=self.complaint_id), _("Note"),
                  lambda desk, text, at: ack_complaint(desk, self.complaint_id, at=at, note=text or None), _("Complaint #{id} acknowledged"))

    def action_hold(self) -> None:
        from csdesk.workflows.complaints import hold_complaint

        self._ask(_("Hold complaint #{id}").format(id=self.complaint_id), _("Waiting for what"),
                  lambda desk, text, at: hold_complaint(desk, self.complaint_id, text, at=at), _("Complaint #{id} on hold"))

    def action_resume(self) -> None:
        from csdesk.workflows.complaints import resume_complaint

        self._ask(_("Resume complaint #{id}").format(id=self.complaint_id), _("Note"),
                  lambda desk, text, at: resume_complaint(desk, self.complaint_id, at=at, note=text or None), _("Complaint #{id} resumed"))

    def action_escalate(self) -> None:
        from csdesk.workflows.complaints import escalate_complaint

        self._ask(_("Escalate complaint #{id}").format(id=self.complaint_id), _("Why"),
                  lambda desk, text, at: escalate_complaint(desk, self.complaint_id, text, at=at), _("Complaint #{id} escalated"))

    def action_resolve(self) -> None:
        from csdesk.workflows.complaints import resolve_complaint

        self._ask(_("Resolve complaint #{id}").format(id=self.complaint_id), _("What was done"),
                  lambda desk, text, at: resolve_complaint(desk, self.complaint_id, text, at=at), _("Complaint #{id} resolved"))

    def action_reopen(self) -> None:
        from csdesk.workflows.complaints import reopen_complaint

        self._ask(_("Reopen complaint #{id}").format(id=self.complaint_id), _("Why"),
                  lambda desk, text, at: reopen_complaint(desk, self.complaint_id, text, at=at), _("Complaint #{id} reopened"))

    def action_note(self) -> None:
        self.app.note_on_complaint(self.complaint_id, self)

    def action_edit(self) -> None:
        def build(values):
            from csdesk.workflows.complaints import edit_complaint

            changes = {k: v for k, v in values.items() if v}
            return lambda desk: edit_complaint(desk, self.complaint_id, **changes)

        self.form(_("Correct complaint #{id} (empty: unchanged)").format(id=self.complaint_id), [
            Field("severity", _("Severity"), "", _("normal 一般, serious 较重, major 重大")),
            Field("category", _("Category"), "", _("quality, installation, attitude, delay, billing, other")),
            Field("summary", _("Summary")),
            Field("customer", _("Customer"), "", _("move it to this customer (code or phone)")),
            Field("project", _("Project"), "", _("project code, or - for none")),
        ], build, lambda info: _("Complaint #{id} corrected").format(id=info.id))

    def action_void(self) -> None:
        from csdesk.workflows.complaints import void_complaint

        self._ask(_("Void complaint #{id} (supervisor or above)").format(id=self.complaint_id), _("Why"),
                  lambda desk, text, at: void_complaint(desk, self.complaint_id, text), _("Complaint #{id} voided"))


class QueueScreen(DeskScreen):
    """Today's work of the person acting; the time left ticks down with every refresh."""

    LIMIT = 20  # rows in each part, the most urgent first; the titles count them all

    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back")),
        Binding("v", "visit", _("Visit outcome")),
        Binding("t", "take_shift", _("Take shift")),
        Binding("f3", "app.team", _("Team board")),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="queue-title", classes="title")
            # A shift handed to me that I have not yet taken comes first (as in `csdesk today`); shown only then.
            yield Static(Text(_("Shift handovers waiting for you (t takes the shift over)")), id="q-handovers-title", classes="title")
            yield DataTable(id="q-handovers", cursor_type="row")
            yield Static(Text(_("My complaints (Enter opens)")), id="q-complaints-title", classes="title")
            yield DataTable(id="q-complaints", cursor_type="row")
            yield Static(Text(_("Callbacks due today (v records the outcome)")), id="q-callbacks-title", classes="title")
            yield DataTable(id="q-callbacks", cursor_type="row")
            yield Static(Text(_("Adjustments and instalments due on my projects")), id="q-money-title", classes="title")
            yield DataTable(id="q-money", cursor_type="row")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#q-complaints", DataTable).add_columns("#", _("Status"), _("Level"), _("Customer"), _("Next deadline"), _("Left"), _("Summary"))
        self.query_one("#q-callbacks", DataTable).add_columns("#", _("Due"), _("Customer"), _("Phone"), _("Purpose"), _("Note"))
        self.query_one("#q-money", DataTable).add_columns(_("What"), _("Project"), _("Due"), _("Amount"), _("Item"))
        self.query_one("#q-handovers", DataTable).add_columns("#", _("Time"), _("Handed by"), _("Open items"), _("Note"))
        self._show_handovers(False)
        self.refresh_data()

    def _show_handovers(self, shown: bool) -> None:
        for selector in ("#q-handovers-title", "#q-handovers"):
            self.query_one(selector).display = shown

    @work(thread=True, exclusive=True, group="queue")
    def refresh_data(self) -> None:
        from csdesk.workflows.today import todays_work

        try:
            work = self.backend.read(lambda desk: todays_work(desk, limit=self.LIMIT))
        except Exception as exc:  # noqa: BLE001
            self.app.deliver(self.app.show_error, exc)
            return
        self.app.deliver(self.show, work)

    def show(self, work) -> None:
        from csdesk.money import fmt_money

        self.query_one("#queue-title", Static).update(Text(_("Today {day} — {name}").format(day=work.day, name=work.person), style="bold"))
        handovers = getattr(work, "handovers", None) or []
        fill(self.query_one("#q-handovers", DataTable), [
            ((str(h.id), Text(short(h.at, self.tz) + " " + _("late"), style="bold red") if h.late else short(h.at, self.tz),
              plain(h.from_name), str(h.items), plain(" ".join((h.note or "").split()))), str(h.id)) for h in handovers])
        self._show_handovers(bool(handovers))
        fill(self.query_one("#q-complaints", DataTable), [
            ((str(row.id), row.status_label, f"L{row.level} {row.severity_label}", row.customer_code,
              short(row.next_due, self.tz), left_text(row.business_left_s), plain(row.summary)), str(row.id)) for row in work.complaints])
        rows = []
        for cb in work.callbacks:
            due = Text(short(cb.due_at, self.tz) + (" " + _("overdue") if cb.overdue else ""), style="bold red" if cb.overdue else "")
            rows.append(((str(cb.id), due, plain(f"{cb.customer_code} {cb.customer_name or ''}"), cb.phone or "",
                          cb.purpose_label, plain(cb.note or cb.subject or "")), str(cb.id)))
        fill(self.query_one("#q-callbacks", DataTable), rows)
        rows = [((_("Adjustment #{id}").format(id=a.id), a.project_code, str(a.due_on or ""), "", plain(a.item)), None)
                for a in work.adjustments]
        rows += [((_("Instalment"), i.project_code, str(i.due_on or ""), fmt_money(i.outstanding), plain(i.name)), None)
                 for i in work.instalments]
        fill(self.query_one("#q-money", DataTable), rows)
        for selector, title, shown, total in (
            ("#q-complaints-title", _("My complaints (Enter opens)"), len(work.complaints), work.complaints_total),
            ("#q-callbacks-title", _("Callbacks due today (v records the outcome)"), len(work.callbacks), work.callbacks_total),
            ("#q-money-title", _("Adjustments and instalments due on my projects"), len(work.adjustments) + len(work.instalments),
             work.adjustments_total + work.instalments_total),
        ):
            count = _("{shown} of {total}").format(shown=shown, total=total) if shown < total else str(total)
            self.query_one(selector, Static).update(Text(f"{title} ({count})"))

    def action_take_shift(self) -> None:
        """Take over the shift handed to me (as `csdesk shift take`), the handover under the cursor or the only one."""
        table = self.query_one("#q-handovers", DataTable)
        if not table.display or table.row_count == 0:
            self.status(_("No shift handover is waiting for you"), error=True)
            return
        handover_id = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

        def build(values):
            from csdesk.workflows.shift import take_shift

            at = self.when(values)
            return lambda desk: take_shift(desk, handover_id, values["note"] or None, at=at)

        self.form(_("Take over shift handover #{id}").format(id=handover_id), [
            Field("note", _("Note"), "", _("what you checked, may stay empty")),
            Field("at", _("When"), "", _("empty: now; today 9:30, -2h")),
        ], build, lambda result: _("Shift handover #{id} taken").format(id=result.id))

    @on(DataTable.RowSelected, "#q-complaints")
    def open_complaint(self, event: DataTable.RowSelected) -> None:
        self.app.open_complaint(int(event.row_key.value))

    @on(DataTable.RowSelected, "#q-callbacks")
    def visit_row(self, event: DataTable.RowSelected) -> None:
        self.app.record_visit(int(event.row_key.value), self)

    def action_visit(self) -> None:
        table = self.query_one("#q-callbacks", DataTable)
        if table.row_count:
            self.app.record_visit(int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value), self)


class TeamScreen(DeskScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", _("Back")), Binding("H", "handover", _("Hand over"))]

    def action_handover(self) -> None:
        """Someone leaves or moves on: everything they still have open goes to a colleague (staff handover)."""
        asked: dict = {}

        def build(values):
            from csdesk.workflows.handover import hand_over

            asked.update(values)
            return lambda desk: hand_over(desk, values["name"], values["to"])

        self.form(_("Hand over open work"), [
            Field("name", _("Who"), "", _("who leaves or moves on")),
            Field("to", _("To"), "", _("who takes it over")),
        ], build, lambda result: _("{name}'s open work handed over to {to}: {n} items").format(
            name=asked["name"], to=asked["to"], n=len(result.items)))

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(_("Complaints near or past a deadline (2 business hours), by assignee")), classes="title")
            yield DataTable(id="t-near", cursor_type="row")
            yield Static(Text(_("Missed callbacks (last 7 days)")), classes="title")
            yield DataTable(id="t-missed", cursor_type="row")
            yield Static(Text(_("Escalations today")), classes="title")
            yield DataTable(id="t-escalations", cursor_type="row")
            yield Static(Text(_("Unassigned callbacks")), classes="title")
            yield DataTable(id="t-unassigned", cursor_type="row")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#t-near", DataTable).add_columns(_("Assignee"), "#", _("Level"), _("Next deadline"), _("Left"), _("Summary"))
        self.query_one("#t-missed", DataTable).add_columns("#", _("Closed"), _("Customer"), _("Assignee"), _("Outcome"))
        self.query_one("#t-escalations", DataTable).add_columns("#", _("Time"), _("Level"), _("Assignee"), _("Summary"))
        self.query_one("#t-unassigned", DataTable).add_columns("#", _("Due"), _("Customer"), _("Purpose"))
        self.refresh_data()

    @work(thread=True, exclusive=True, group="team")
    def refresh_data(self) -> None:
        from csdesk.workflows.today import team_board

        try:
            board = self.backend.read(lambda desk: team_board(desk))
        except Exception as exc:  # noqa: BLE001
            self.app.deliver(self.app.show_error, exc)
            return
        self.app.deliver(self.show, board)

    def show(self, board) -> None:
        fill(self.query_one("#t-near", DataTable), [
            ((plain(row.assignee), str(row.id), f"L{row.level} {row.severity_label}", short(row.next_due, self.tz),
              left_text(row.business_left_s), plain(row.summary)), str(row.id))
            for row in sorted(board.near, key=lambda r: (r.assignee, r.business_left_s or 0))])
        fill(self.query_one("#t-missed", DataTable), [
            ((str(m.id), short(m.closed_at, self.tz), plain(f"{m.customer_code} {m.customer_name or ''}"),
              plain(m.assignee or ""), _label_outcome(m.outcome)), None) for m in board.missed])
        fill(self.query_one("#t-escalations", DataTable), [
            ((str(e.complaint_id), short(e.at, self.tz), f"L{e.from_level}→L{e.to_level}", plain(e.assignee or ""),
              plain(e.summary)), None) for e in board.escalations])
        fill(self.query_one("#t-unassigned", DataTable), [
            ((str(cb.id), short(cb.due_at, self.tz), plain(f"{cb.customer_code} {cb.customer_name or ''}"), cb.purpose_label), None)
            for cb in board.unassigned])

    @on(DataTable.RowSelected, "#t-near")
    def open_complaint(self, event: DataTable.RowSelected) -> None:
        self.app.open_complaint(int(event.row_key.value))


# -- the app ----------------------------------------------------------------------------------------


class DeskApp(App):
    """csdesk desk."""

    TITLE = "csdesk"
    CSS = """
    .title { text-style: bold; margin-top: 1; }
    #status { dock: bottom; height: 1; background: $boost; }
    #status.error { background: $error; color: $text; }
    DataTable { height: auto; max-height: 12; scrollbar-size-horizontal: 0; }
    DeskScreen > VerticalScroll { overflow-y: scroll; scrollbar-size-vertical: 1; }
    """
    BINDINGS = [Binding("ctrl+q", "quit", _("Quit"), priority=True)]

    def __init__(self, backend, refresh: float = 5.0):
        super().__init__()
        self.backend = backend
        self.refresh_every = refresh
        self.person = None
        self._screens_kept: dict[type, Screen] = {}
        self._forms_kept: dict[tuple, FormScreen] = {}

    def on_mount(self) -> None:
        self.backend.hold()
        self.push_screen(CallerScreen())
        self.set_interval(self.refresh_every, self.tick)
        self.who()
        if self.settle_memory:
            self.call_after_refresh(self._settle_memory)

    # Set by `run()` (the command), which owns its process; not for an app inside another process (the tests).
    settle_memory = False

    @staticmethod
    def _settle_memory() -> None:
        """Once the first screen is up, everything loaded so far (modules, the models, Textual's classes:
        ~100,000 objects, none of them garbage) leaves the cyclic garbage collector's view: a full
        collection, which otherwise walks all of them while the person waits for a key's answer, took
        ~100 ms (measured in the benchmark's slowest 5 %); it now walks only what the desk made since. And
        such a full collection (still 30–60 ms under load) comes ten times less often: after 100 collections
        of the middle generation instead of 10 (the young generations are collected as before)."""
        import gc

        gc.collect()
        gc.freeze()
        young, middle, _full = gc.get_threshold()
        gc.set_threshold(young, middle, 100)

    def on_unmount(self) -> None:
        self.backend.release()

    @work(thread=True, group="who")
    def who(self) -> None:
        try:
            person = self.backend.who()
        except Exception as exc:  # noqa: BLE001
            self.deliver(self.show_error, exc)
            return
        self.person = person
        self.deliver(self.show_status, _("Working as {name}").format(name=person.name))

    def tick(self) -> None:
        """Other people's writes appear: reload the screen on top (forms are left alone)."""
        screen = self.screen
        if isinstance(screen, DeskScreen) and not isinstance(screen, CallerScreen):
            screen.refresh_data()

    def deliver(self, fn, *args) -> None:
        """Hand a worker's result to the screen, unless the app has closed meanwhile (a refresh that
        finishes after the person quit has nobody to show it to)."""
        if not self.is_running:
            return
        try:
            self.call_from_thread(fn, *args)
        except Exception:  # noqa: BLE001 — the app closed between the check and the call
            if self.is_running:
                raise

    def _fatal_error(self) -> None:
        """An unexpected error ends the app with one line: no traceback, no locals with customer data.
        (Textual's own handler prints a traceback with the local variables.)"""
        import sys

        error = self._exception or sys.exc_info()[1]
        self.bell()
        self._exit_renderables.append(Text(_(
            "The desk stopped after an unexpected error ({kind}). What was saved stays saved; start it again with: csdesk desk"
        ).format(kind=type(error).__name__ if error else "?")))
        self._close_messages_no_wait()

    def show_status(self, message: str, error: bool = False) -> None:
        self.notify(message, severity="error" if error else "information", timeout=6)
        self.sub_title = message

    def show_error(self, exc: BaseException) -> None:
        """A refusal: its one line. Anything else: its kind only — never a traceback with customer data."""
        from csdesk.errors import CsdeskError

        if isinstance(exc, CsdeskError):
            self.show_status(exc.message, error=True)
        else:
            self.show_status(_("Something went wrong ({kind}); nothing was saved").format(kind=type(exc).__name__), error=True)

    @work(thread=True, group="action")
    def perform(self, fn, done, after) -> None:
        try:
            result = self.backend.write(fn)
        except Exception as exc:  # noqa: BLE001 — shown in the status line, the database unchanged
            self.deliver(self.show_error, exc)
            return
        self.deliver(self.show_status, done(result))
        self.deliver(after, result)

    def push_screen(self, screen, callback=None, wait_for_dismiss=False):
        """A form is composed once per shape and kept: the next form of that shape refills it."""
        if isinstance(screen, (FormScreen, Confirm)) and isinstance(self.screen, DeskScreen):
            self.screen.under_form = True  # cancelled: nothing changed; saved: the action shows what changed
        if isinstance(screen, FormScreen) and not screen.is_mounted:
            kept = self._forms_kept.get(screen.shape())
            if kept is None:
                kept = self._forms_kept[screen.shape()] = screen
                self.install_screen(screen, name=f"kept-form-{len(self._forms_kept)}")
            elif kept not in self.screen_stack:
                kept.refill(screen.form_title, screen.fields)
                screen = kept
        return super().push_screen(screen, callback, wait_for_dismiss=wait_for_dismiss)

    def _kept(self, kind: type, *args):
        """One screen of each kind, composed once and kept between visits (composing a screen with its
        tables costs more than filling it); a second one only while the kept one is already open below."""
        kept = self._screens_kept.get(kind)
        if kept is None:
            kept = self._screens_kept[kind] = kind(*args)
            self.install_screen(kept, name=f"kept-{kind.__name__}")
        elif kept in self.screen_stack:
            return kind(*args)
        elif args:
            kept.switch_to(*args)
        return kept

    def open_customer(self, code: str) -> None:
        kept = self._screens_kept.get(CustomerScreen)
        if kept is None or not kept.is_mounted or kept in self.screen_stack:
            self.push_screen(self._kept(CustomerScreen, code))
        else:  # the kept card is filled first and then shown: one drawing of the screen, not an empty one first
            self._open_card(code)

    @work(thread=True, exclusive=True, group="card-open")
    def _open_card(self, code: str) -> None:
        try:
            view, complaints = self.backend.read(lambda desk: card_data(desk, code))
        except Exception as exc:  # noqa: BLE001 — an unknown code: its one line, the caller box stays
            self.deliver(self.show_error, exc)
            return
        self.deliver(self._card_ready, code, view, complaints)

    def _card_ready(self, code: str, view, complaints) -> None:
        kept = self._screens_kept[CustomerScreen]
        if kept in self.screen_stack:  # opened meanwhile another way: that one loads itself
            return
        kept.switch_to(code)
        kept.show(view, complaints)
        kept.preloaded = True
        self.push_screen(kept)

    def open_complaint(self, complaint_id: int) -> None:
        self.push_screen(self._kept(ComplaintScreen, complaint_id))

    def action_queue(self) -> None:
        if not isinstance(self.screen, QueueScreen):
            self.push_screen(self._kept(QueueScreen))

    def action_team(self) -> None:
        from csdesk.workflows import ROLE_RANK

        if self.person is None or self.person.rank < ROLE_RANK["supervisor"]:
            self.show_status(_("The team board is for supervisors and above"), error=True)
            return
        if not isinstance(self.screen, TeamScreen):
            self.push_screen(self._kept(TeamScreen))

    def record_visit(self, callback_id: int, screen: DeskScreen) -> None:
        def build(values):
            from csdesk.errors import InvalidValue
            from csdesk.workflows.callbacks import record_attempt

            outcome = {"r": "reached", "n": "no-answer", "w": "wrong-number"}.get(values["outcome"][:1].lower(), values["outcome"])
            satisfied = None
            if values["satisfied"]:
                satisfied = values["satisfied"].lower() in ("y", "yes", "是", "满意", "1")
            try:
                score = int(values["score"]) if values["score"] else None
            except ValueError:
                raise InvalidValue(_("The score is a number from 1 to 5")) from None
            at = screen.when(values)
            return lambda desk: record_attempt(desk, callback_id, outcome, satisfied=satisfied, score=score,
                                               note=values["note"] or None, at=at)

        screen.form(_("Outcome of callback #{id}").format(id=callback_id), [
            Field("outcome", _("Outcome"), "r", _("r reached, n no answer, w wrong number")),
            Field("satisfied", _("Satisfied?"), "", _("y/n, empty if not asked")),
            Field("score", _("Score"), "", _("1–5, may stay empty")),
            Field("note", _("Note"), "", _("what the customer said")),
            Field("at", _("When"), "", _("empty: now; today 9:30, -2h")),
        ], build, lambda result: _("Callback #{id}: {outcome}").format(id=callback_id, outcome=result.outcome))

    def note_on_complaint(self, complaint_id: int, screen: DeskScreen) -> None:
        def build(values):
            from csdesk.workflows.complaints import add_note

            return lambda desk: add_note(desk, complaint_id, values["text"])

        screen.form(_("Note on complaint #{id}").format(id=complaint_id), [Field("text", _("Note"))],
                    build, lambda _result: _("Note added to complaint #{id}").format(id=complaint_id))


def _label_outcome(outcome: str | None) -> str:
    from csdesk.i18n import label

    words = {"no_answer": ("no answer", "未接"), "wrong_number": ("wrong number", "错号"), "reached": ("reached", "接通")}
    english, chinese = words.get(outcome or "", (outcome or "", outcome or ""))
    return label(english, chinese)


def run(backend, refresh: float = 5.0) -> int:
    app = DeskApp(backend, refresh)
    app.settle_memory = True  # the process is the desk's alone
    app.run()
    return app.return_code or 0
