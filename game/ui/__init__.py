"""The pygame interface (the only part of the package that imports pygame)."""
