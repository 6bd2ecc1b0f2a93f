"""csdesk report daily|weekly|monthly|quarterly|annual."""

from pathlib import Path
from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, NowOpt, note, out, print_json, state, want_json
from csdesk.i18n import N_, _

app = typer.Typer(no_args_is_help=True)

PeriodOpt = Annotated[str | None, typer.Option("--period", help="Which one: 2026-11-24, 2026-W48, 2026-11, 2026-Q4, 2026, current or last (default: the last complete one).", metavar="P")]
PeriodArg = Annotated[str | None, typer.Argument(help="The period, as for --period (csdesk report monthly 2026-10).", metavar="P", show_default=False)]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="Write an Excel workbook (summary, one sheet per area, charts) to FILE.xlsx.", metavar="FILE", dir_okay=False)]
LangOpt = Annotated[str | None, typer.Option("--lang", help="The report's language, zh or en (default: the interface's).", metavar="zh|en", show_default=False)]
NoPagerOpt = Annotated[bool, typer.Option("--no-pager", help="Print straight to the terminal, without a pager (none is used when the output is piped).")]
UnmaskOpt = Annotated[bool, typer.Option("--unmask", help="Customer phone numbers in full in the detail rows (manager or above).")]
MailOpt = Annotated[list[str] | None, typer.Option("--mail", help="Mail the workbook to this address (repeatable); SMTP settings from the config.", metavar="TO")]

# Each report's help, whole, so that the catalogue translates it as one text.
HELP = {
    "daily": N_(
        "The daily report (日报): one local calendar day, beside the day before.\n\n"
        "Without --xlsx the figures are shown as tables; --json gives the same figures for scripts.\n\n"
        "Periods are bounded at local midnight in the configured time zone.\n\n"
        "Example: csdesk report daily --period 2026-11-24"
    ),
    "weekly": N_(
        "The weekly report (周报): one ISO week, Monday to Sunday, beside the week before.\n\n"
        "Without --xlsx the figures are shown as tables; --json gives the same figures for scripts.\n\n"
        "Periods are bounded at local midnight in the configured time zone.\n\n"
        "Example: csdesk report weekly --period 2026-W48 --json"
    ),
    "monthly": N_(
        "The monthly report (月报): one calendar month, beside the month before.\n\n"
        "Without --xlsx the figures are shown as tables; --json gives the same figures for scripts.\n\n"
        "Periods are bounded at local midnight in the configured time zone.\n\n"
        "Example: csdesk report monthly 2026-11 --xlsx 客服月报-2026-11.xlsx"
    ),
    "quarterly": N_(
        "The quarterly report (季报): one quarter, beside the quarter before.\n\n"
        "Without --xlsx the figures are shown as tables; --json gives the same figures for scripts.\n\n"
        "Periods are bounded at local midnight in the configured time zone.\n\n"
        "Example: csdesk report quarterly --period 2026-Q4 --xlsx q4.xlsx --lang en"
    ),
    "annual": N_(
        "The annual report (年报): one calendar year, beside the year before.\n\n"
        "Without --xlsx the figures are shown as tables; --json gives the same figures for scripts.\n\n"
        "Periods are bounded at local midnight in the configured time zone.\n\n"
        "Example: csdesk report annual --period 2026"
    ),
}


def _run(ctx, kind, period, xlsx, json_, lang, unmask, mail, now, no_pager=False) -> None:
    import io

    from csdesk.errors import InvalidValue
    from csdesk.reports import ReportHelper, build_report, render_terminal, report_json, write_xlsx

    from csdesk import i18n

    st = state(ctx)
    if lang is not None:
        if i18n.normalise(lang) is None:
            raise InvalidValue(i18n._("unknown language {lang!r} (use zh or en)").format(lang=lang))
        i18n.set_language(lang)  # the report's words, and the command's own messages, in that language
    lang = "en" if i18n.is_english() else "zh"
    target = None
    if xlsx is not None:
        from csdesk.db import expand_path

        target = expand_path(xlsx)
        if target.suffix.lower() != ".xlsx":
            raise InvalidValue(_("{path} does not end in .xlsx; name the workbook FILE.xlsx").format(path=xlsx))
        if st.database.target.path is not None and target == st.database.target.path:
            raise InvalidValue(_("the workbook must not be the database file"))
        if not target.parent.is_dir():
            raise InvalidValue(_("folder {folder} does not exist").format(folder=target.parent))
    if mail:
        _check_mail(st.settings, mail)
    when = st.now(now)

    def work(desk):
        # A second process on the same snapshot, where one can be had.
        helper = ReportHelper.start(desk, workbook=target is not None or bool(mail))
        try:
            return made(desk, helper)
        finally:
            if helper is not None:
                helper.close()

    def made(desk, helper):
        from csdesk.workflows.archive import archived_in

        report = build_report(desk, kind, period, lang=lang, unmask=unmask, helper=helper)
        # A period (or the one beside it) that was archived says so and names the file (issue 18).
        archived.extend(archived_in(desk.session, report.previous.start, report.period.end))
        sheets, data = 0, None
        if target is not None:
            partial = target.with_name(f".{target.name}.partial")
            try:
                sheets = write_xlsx(desk, report, partial, helper=helper)
                partial.replace(target)  # never leave a half-written workbook under the real name
            finally:
                if partial.exists():
                    partial.unlink()
            if mail:
                data = target.read_bytes()
        elif mail:
            buffer = io.BytesIO()
            sheets = write_xlsx(desk, report, buffer, helper=helper)
            data = buffer.getvalue()
        return report, sheets, data

    archived: list = []
    report, sheets, data = st.read(work, now=when, shareable=True)
    if want_json(ctx, json_):
        print_json(ctx, {**report_json(report), "archived": [{"file": a.file or None, "before": a.before, "note": a.message} for a in archived]})
    elif target is None and not mail:
        def show(console):
            render_terminal(report, console)
            if archived:
                from rich.text import Text

                console.print()
                for a in archived:
                    console.print(Text(_("Note: {message}").format(message=a.message)))

        _on_terminal(show, pager=not no_pager)
    if not want_json(ctx, json_) and (target is not None or mail):
        for a in archived:
            note(_("Note: {message}").format(message=a.message))
    if target is not None:
        note(_("Wrote {title} to {path} ({sheets} sheets).").format(title=report.title, path=target, sheets=sheets))
    if mail:
        name = target.name if target is not None else f"csdesk-{kind}-{report.period.name}.xlsx"
        _send(st.settings, mail, report, name, data)
        note(_("Mailed {file} to {addresses}.").format(file=name, addresses=", ".join(mail)))


def _on_terminal(show, pager: bool) -> None:
    """Show a long report: through a pager when stdout is a terminal (PAGER, else `less -FRX`), straight
    otherwise; a reader that stops early (`| head`) ends it quietly, with exit 0."""
    import os
    import sys

    console = out()

    def reader_gone() -> None:
        # The reader has gone: what is left unwritten goes nowhere, and that is not an error (rich's own
        # handler would exit 1).
        console.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0)

    console.on_broken_pipe = reader_gone
    try:
        if pager and sys.stdout.isatty():
            with console.pager(pager=_SystemPager(), styles=True):
                show(console)
        else:
            show(console)
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()


def _SystemPager():
    from rich.pager import Pager

    class SystemPager(Pager):
        """$PAGER, else `less -FRX` (colours kept, gone at once when the report fits the screen), else pydoc's."""

        def show(self, content: str) -> None:
            import os
            import pydoc
            import shutil

            command = os.environ.get("PAGER") or ("less -FRX" if shutil.which("less") else None)
            if command:
                pydoc.pipepager(content, command)
            else:
                pydoc.pager(content)

    return SystemPager()


def _check_mail(settings, addresses: list[str]) -> None:
    from csdesk.errors import InvalidValue

    for addr in addresses:
        if "@" not in addr or addr.startswith("@") or addr.endswith("@") or any(c.isspace() for c in addr):
            raise InvalidValue(_("{address!r} is not a mail address").format(address=addr))
    try:
        smtp = settings["smtp"]
    except KeyError:
        smtp = {}
    if not smtp.get("host") or not smtp.get("from_addr"):
        raise InvalidValue(_("mailing needs an SMTP server: smtp.host and smtp.from_addr are not set in the config"),
                           hint=_("csdesk config show lists the [smtp] keys"))


def _send(settings, addresses: list[str], report, filename: str, data: bytes) -> None:
    from csdesk.errors import CsdeskError
    from csdesk.mailer import send_message
    from csdesk.reports import fmt_change, fmt_value

    lines = [report.title, ""]
    for f in report.figures:
        lines.append("- " + _("{figure}: {value} (previous {previous}, {change})").format(
            figure=f.label, value=fmt_value(f.unit, f.value), previous=fmt_value(f.unit, f.previous), change=fmt_change(f.unit, f.change)))
    for a in report.areas:
        if not a.available:
            lines.append(f"- {a.label}: {a.note}")
    lines += ["", _("Attached: {file}").format(file=filename), "— csdesk report"]
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for addr in addresses:
        try:
            send_message(settings, addr, f"csdesk {report.title}", "\n".join(lines), attachments=[(filename, data, mime)])
        except Exception as exc:  # noqa: BLE001 — any refusal by the server is reported, not a traceback
            raise CsdeskError(_("could not mail the report to {address}: {problem}").format(
                address=addr, problem=f"{type(exc).__name__}: {exc}")) from None


def _command(kind: str):
    def command(
        ctx: typer.Context,
        which: PeriodArg = None,
        period: PeriodOpt = None,
        xlsx: XlsxOpt = None,
        json_: JsonOpt = False,
        lang: LangOpt = None,
        unmask: UnmaskOpt = False,
        mail: MailOpt = None,
        now: NowOpt = None,
        no_pager: NoPagerOpt = False,
    ) -> None:
        from csdesk.errors import InvalidValue

        if which is not None and period is not None and which != period:
            raise InvalidValue(f"two periods given: {which} and --period {period}; name one")
        _run(ctx, kind, period or which, xlsx, json_, lang, unmask, mail, now, no_pager)

    command.__doc__ = HELP[kind]
    return command


for _kind in ("daily", "weekly", "monthly", "quarterly", "annual"):
    app.command(_kind)(_command(_kind))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="report", help="Reports (报表): daily to annual, on the terminal, as JSON or as Excel workbooks.")
