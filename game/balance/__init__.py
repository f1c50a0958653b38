"""Headless AI-vs-AI balance testing: game records, the parallel runner, statistics and reports."""
