"""Ichi-Go 1944: an operational hex wargame engine.

The rules core (everything in this package except ``game.ui``) is pure Python + numpy and never
imports pygame. ``game.ui`` is the only layer that draws.
"""

__version__ = "0.1.0"
