"""Thin Typer sub-apps: parse arguments, call one workflow, render its result.

Modules here import only typer at the top; the database, workflows and rich are imported inside the
command bodies, so `csdesk --help` stays fast.
"""
