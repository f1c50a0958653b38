"""An operational hex wargame engine.

The rules core (everything in this package except ``game.ui``) is pure Python + numpy and never
imports pygame. ``game.ui`` is the only layer that draws.

The program's own name is in one place: :func:`app_name`, the installed distribution's name (the
``name`` of pyproject.toml). It names the user's folders (saves, AI profiles), their environment
variables (:func:`env_var`) and the bug-report files (:func:`bug_report_prefix`).
"""

from __future__ import annotations

import functools
import os
import re

# The engine's parallelism is across games (a process per balance worker), never inside one numpy
# call: its arrays hold a few thousand hexes. A BLAS thread pool only costs CPU: OpenBLAS starts a
# thread per core when numpy (and again when scipy) is loaded, 0.07 s of CPU on two cores and more
# on more, and its threads would contend with the workers of a balance run. One thread each, unless
# the user set otherwise (this takes effect when the engine is imported before numpy, as the
# program's entry points do).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"

#: The name used when the package runs from a checkout that was never installed (no metadata).
FALLBACK_APP_NAME = "hexwar"


@functools.cache
def app_name() -> str:
    """The name of the installed distribution this package belongs to, else FALLBACK_APP_NAME.
    Looked up on first use only (reading the metadata of every installed distribution takes a
    tenth of a second), so commands that never need it do not pay for it."""
    try:
        from importlib.metadata import packages_distributions

        names = packages_distributions().get(__name__) or []
    except Exception:  # noqa: BLE001 - broken metadata: the fallback name will do
        names = []
    return names[0] if names else FALLBACK_APP_NAME


def env_var(what: str) -> str:
    """The environment variable of a user setting: the app name's leading letters in capitals,
    ``_`` and `what` (``"SAVES"`` -> ``HEXWAR_SAVES`` for the app name ``hexwar2``)."""
    m = re.match(r"[A-Za-z]+", app_name())
    return f"{(m.group(0) if m else FALLBACK_APP_NAME).upper()}_{what}"


def bug_report_prefix() -> str:
    """The name prefix of the temporary files that keep the traceback of an internal error."""
    return f"{app_name()}-bug-"
