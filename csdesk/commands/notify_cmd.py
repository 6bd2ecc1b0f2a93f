"""csdesk notify test|status."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, out, print_json, state, table, want_json
from csdesk.i18n import _

app = typer.Typer(no_args_is_help=True)


@app.command("test")
def test(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="A channel name from [notify.channels] (or email).", metavar="CHANNEL")],
    to: Annotated[str | None, typer.Option("--to", help="email: the address to write to (default: smtp.from_addr).", metavar="ADDRESS")] = None,
    json_: JsonOpt = False,
) -> None:
    """Send one test message through a channel and print the service's answer. Records nothing.

    Example: csdesk notify test wecom
    """
    from csdesk.notify import send_test

    st = state(ctx)
    answer = send_test(st.settings, channel, to, st.now(None))
    if want_json(ctx, json_):
        print_json(ctx, answer)
        return
    from csdesk.commands.common import echo

    echo(_("{channel} ({kind}): accepted — {status} {answer}").format(
        channel=answer["channel"], kind=answer["kind"], status=answer["status"], answer=answer["answer"]))


@app.command("status")
def status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Each channel: whom it serves, notices waiting, messages of unknown fate, messages sent.

    Example: csdesk notify status
    """
    from csdesk import dates
    from csdesk.workflows.deliveries import channel_status

    st = state(ctx)
    rows = st.read(channel_status)
    if want_json(ctx, json_):
        from csdesk.commands.common import print_list

        print_list(ctx, rows, len(rows))
        return
    from rich.text import Text

    tz = st.settings.tz
    t = table(_("Channel"), _("Type"), _("On"), _("Serves"), _("Waiting"), _("Unknown"), _("Sent"), _("Last sent"), _("Last error"),
              text=(_("Serves"), _("Last error")), optional=(_("Last error"), _("Serves"), _("Type")))
    for r in rows:
        t.add_row(Text(r.channel), r.kind, _("yes") if r.enabled else _("no"), Text(", ".join(r.serves)), str(r.pending),
                  Text(str(r.unknown), style="bold yellow" if r.unknown else ""), str(r.sent),
                  dates.fmt(r.last_sent, tz) if r.last_sent else "", Text(r.last_error or ""))
    out().print(t)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="notify", help="Notify channels (mail, WeCom, DingTalk): test one, see what waits.")
