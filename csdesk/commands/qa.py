"""csdesk qa sample|score|list|show — call quality checks (质检)."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, echo, heading, note, out, print_json, print_list, state, want_json
from csdesk.i18n import _

app = typer.Typer(no_args_is_help=True)

CallId = Annotated[int, typer.Argument(help="The call's number (# in qa list or calls list).", metavar="CALL_ID")]


def _kind(kind: str) -> str:
    from csdesk.i18n import label
    from csdesk.workflows.calls import KINDS

    return label(kind, KINDS.get(kind, kind))


def _score_text(weighted, passed) -> str:
    if weighted is None:
        return ""
    return f"{weighted:.2f} " + (_("pass") if passed else _("FAIL"))


def sample(
    ctx: typer.Context,
    period: Annotated[str, typer.Option("--period", help="The month whose calls are drawn: 2026-11.")],
    per_agent: Annotated[int | None, typer.Option("--per-agent", help="Calls drawn per agent (default: qa.per_agent in the settings).")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only calls of this kind: inquiry | complaint | repair | …")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="The draw's seed: the same seed over the same calls draws the same sample (default: a new one, shown).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Who listens to and scores them (default: you).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Draw a random sample of each agent's calls in a month for quality checks (supervisors and the quality group).

    Example: csdesk qa sample --period 2026-11 --per-agent 5 --seed 7
    """
    from csdesk.workflows.qa import draw_sample

    st = state(ctx)
    result = st.write(lambda desk: draw_sample(desk, period, per_agent=per_agent, kind=kind, seed=seed, to=to))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    _sample_table(ctx, result.drawn)
    note(_("Drew {n} calls of {period} (seed {seed}) for {name}.").format(
        n=len(result.drawn), period=result.period, seed=result.seed, name=result.assigned_to))
    for agent, n in result.short.items():
        note(_("{agent}: only {n} calls left to draw.").format(agent=agent, n=n))


def _sample_table(ctx, rows) -> None:
    from csdesk import dates
    from csdesk.commands.common import table

    tz = state(ctx).settings.tz
    t = table("#", _("when"), _("agent"), _("kind"), _("customer"), _("checker"), _("score"), _("recording"),
              text=(_("customer"), _("recording")), optional=(_("recording"), _("checker")))
    for r in rows:
        t.add_row(str(r.call_id), dates.fmt(r.at, tz), r.agent or "—", _kind(r.kind),
                  f"{r.customer_code or ''} {r.customer_name or ''}".strip(), r.assigned_to, _score_text(r.weighted, r.passed),
                  r.recording or "")
    out().print(t)


def score(
    ctx: typer.Context,
    call_id: CallId,
    item: Annotated[list[str], typer.Option("--item", help="ITEM=SCORE, one per checklist item, each 1–5: --item 礼貌用语=5.")],
    note_: Annotated[str | None, typer.Option("--note", help="What to improve.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Score a sampled call against the checklist (qa.items); a second score is a rescore. Below the pass mark, the agent's supervisor is told.

    Example: csdesk qa score 12 --item 礼貌用语=5 --item 问题确认=4 --item 解决方案=4 --item 服务态度=5 --item 结束规范=3 --note "结束语不完整"
    """
    from csdesk.workflows.qa import score_call

    info = state(ctx).write(lambda desk: score_call(desk, call_id, item, note_))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    echo(f"{info.weighted:.2f}")
    message = _("Rescored call #{id}: {score} (pass mark {mark}).") if info.rescore else _("Scored call #{id}: {score} (pass mark {mark}).")
    note(message.format(id=info.call_id, score=_score_text(info.weighted, info.passed), mark=f"{info.pass_mark:.2f}"))
    if not info.passed:
        note(_("Below the pass mark: the next reminder run tells the agent's supervisor."))


def qa_list(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Option("--agent", help="Whose calls: a staff name, or me.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="The month sampled: 2026-11.")] = None,
    unscored: Annotated[bool, typer.Option("--unscored", help="Only calls not scored yet.")] = False,
    checker: Annotated[str | None, typer.Option("--checker", help="Assigned to this person (a name, or me).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (the count of all is on stderr).")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List the sampled calls, newest first, with their scores.

    Example: csdesk qa list --period 2026-11 --unscored
    """
    from csdesk.commands.common import cut_note
    from csdesk.workflows.qa import list_samples

    rows, total = state(ctx).read(lambda desk: list_samples(desk, agent, period, unscored, checker, limit))
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    _sample_table(ctx, rows)
    cut_note(len(rows), total)


def show(ctx: typer.Context, call_id: CallId, json_: JsonOpt = False) -> None:
    """Show a call's quality check: the sample, the newest score item by item, and every earlier score.

    Example: csdesk qa show 12
    """
    from rich.text import Text

    from csdesk import dates
    from csdesk.workflows.qa import show_qa

    view = state(ctx).read(lambda desk: show_qa(desk, call_id))
    if want_json(ctx, json_):
        print_json(ctx, view)
        return
    tz = state(ctx).settings.tz
    console = out()
    console.print(heading(_("call #{id}").format(id=view.call_id), "  " + (_("void") if view.voided else "")))
    rows = [
        (_("when"), dates.fmt(view.at, tz)), (_("agent"), view.agent), (_("kind"), _kind(view.kind)),
        (_("customer"), f"{view.customer_code or ''} {view.customer_name or ''}".strip()), (_("summary"), view.summary),
        (_("recording"), view.recording or _("(none)")),
        (_("sampled"), _("{period}, for {name}, {at} (seed {seed})").format(period=view.period, name=view.assigned_to,
                                                                          at=dates.fmt(view.sampled_at, tz), seed=view.seed)
         if view.period else _("not sampled")),
    ]
    for label, value in rows:
        if value:
            console.print(Text(f"  {label}: {value}"))
    if view.score is None:
        console.print(Text("  " + _("Not scored yet.")))
        return
    s = view.score
    console.print(Text("  " + _("score: {score} (pass mark {mark}), by {name}, {at}").format(
        score=_score_text(s.weighted, s.passed), mark=f"{s.pass_mark:.2f}", name=s.scorer or "—", at=dates.fmt(s.scored_at, tz))))
    for item, value in s.items.items():  # as scored (the checklist in the settings may have changed since)
        weight = view.checklist.get(item)
        console.print(Text(f"    {item}  {value}/5" + ("  " + _("weight {w}").format(w=weight) if weight is not None else "")))
    if s.note:
        console.print(Text("  " + _("note") + f": {s.note}"))
    for old in view.history[:-1]:
        console.print(Text("  " + _("earlier: {score} by {name}, {at}").format(
            score=_score_text(old.weighted, old.passed), name=old.scorer or "—", at=dates.fmt(old.scored_at, tz))))


def register(root: typer.Typer) -> None:
    app.command("sample")(sample)
    app.command("score")(score)
    app.command("list")(qa_list)
    app.command("show")(show)
    root.add_typer(app, name="qa", help="Call quality checks (质检): sample, score, list, show.")
