"""The reports' parts; `csdesk.reports` is the entry point (`build_report`, `write_xlsx`).

- `periods`: named periods (2026-11, 2026-W48 …) and their local-midnight bounds;
- `core`: the report's dataclasses, the registries (FIGURES, BREAKDOWNS, DETAILS …) and shared helpers;
- `definitions`: every figure and breakdown, once, with the text that says what it counts;
- one module per area (`calls`, `complaints`, `visits`, `adjustments`, `money`), plus `overdue` (the
  cross-area list of what is overdue at period end) and `agents` (the per-agent table): each computes
  its figures and streams its detail rows;
- renderers: `terminal` (rich tables), `jsondata` (--json), `workbook` (the xlsx sheets), with the
  shared number formats in `fmt`.

Adding a figure touches its definition in `definitions` and its area's module only.
"""
