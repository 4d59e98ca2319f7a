"""Checking a published folder as clients read it: the readers table, the published-answer view, the checker, the HTML report."""
