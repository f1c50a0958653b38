"""Scenarios: the file format (model), loading with ``extends`` (loader), cross-reference and
geographic checks (semantic), and the compiled map the rules engine plays on (build)."""
