"""The full-screen desk (`csdesk desk`, Textual): screens and widgets only; every action calls a workflow."""
