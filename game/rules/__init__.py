"""The rules engine: pure Python + numpy, no pygame."""
