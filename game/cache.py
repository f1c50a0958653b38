"""Bounded, thread-safe caches of derived data, each owned by one object.

The rules and the AI derive data from a scenario that they would otherwise recompute over and
over: air cover layers, rail adjacency, the AI's cost fields. Each such cache is a
:class:`BoundedCache` owned by one object, the :class:`~game.rules.context.Context` of the
scenario (whose derived data it holds), with a name, a key and a size bound. The window's thread
and the AI's worker thread share a context, so a cache takes a lock for every read and write; a
value is computed outside the lock (two threads may both compute a missing value: the values are
equal, the first one stored wins). Cached numpy arrays are stored read-only, so no caller can
change what another one reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """A least-recently-used mapping of at most `maxsize` entries, safe to share between threads."""

    def __init__(self, name: str, maxsize: int):
        if maxsize < 1:
            raise ValueError("a cache holds at least one entry")
        self.name = name
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value for `key`, made with `make()` (and kept) when it is not cached."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = _frozen(make())
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                return found
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __repr__(self) -> str:
        return f"BoundedCache({self.name!r}, {len(self)}/{self.maxsize}, hits={self.hits}, misses={self.misses})"


class CacheSet:
    """The named caches one object owns; other layers (the AI) add theirs by name."""

    def __init__(self) -> None:
        self._caches: dict[str, BoundedCache] = {}
        self._lock = threading.Lock()

    def cache(self, name: str, maxsize: int) -> BoundedCache:
        """The cache called `name`, made on first use with bound `maxsize`."""
        with self._lock:
            found = self._caches.get(name)
            if found is None:
                found = self._caches[name] = BoundedCache(name, maxsize)
            return found

    def clear(self) -> None:
        with self._lock:
            caches = list(self._caches.values())
        for c in caches:
            c.clear()

    def __iter__(self):
        with self._lock:
            return iter(list(self._caches.values()))


def _frozen(value: V) -> V:
    """Make cached arrays read-only (in tuples too), so no holder can change them."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, tuple):
        for v in value:
            if isinstance(v, np.ndarray):
                v.setflags(write=False)
    return value


__all__ = ["BoundedCache", "CacheSet"]
