"""The caches of derived data: bounded, least recently used first out, read-only arrays, and safe
when the window's thread and the AI's worker thread share a context."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from conftest import EXAMPLE
from game.ai.operational import cost_field
from game.cache import BoundedCache, CacheSet
from game.rules.context import load_context
from game.rules.engine import Game, legal_actions
from game.rules.movement import make_board


def test_a_cache_keeps_at_most_its_bound_dropping_the_least_recently_used():
    made = []
    cache: BoundedCache[int] = BoundedCache("t", 2)
    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get(key, lambda k=key: made.append(k) or len(made))
    assert made == ["a", "b", "c", "b"]  # 'b' was the least recently used when 'c' came
    assert len(cache) == 2 and cache.hits == 2 and cache.misses == 4
    with pytest.raises(ValueError):
        BoundedCache("none", 0)


def test_cached_arrays_are_read_only():
    cache: BoundedCache[np.ndarray] = BoundedCache("t", 4)
    a = cache.get(1, lambda: np.zeros(3))
    pair = cache.get(2, lambda: (np.zeros(2), np.ones(2)))
    for arr in (a, *pair):
        with pytest.raises(ValueError):
            arr[0] = 5


def test_a_cache_set_names_its_caches():
    caches = CacheSet()
    assert caches.cache("x", 3) is caches.cache("x", 99)
    caches.cache("x", 3).get("k", lambda: 1)
    caches.clear()
    assert len(caches.cache("x", 3)) == 0 and [c.name for c in caches] == ["x"]


def test_two_threads_sharing_a_context_see_what_one_thread_sees():
    ctx = load_context(EXAMPLE)
    game = Game.new(ctx, 4)
    expected_actions = [str(a) for a in legal_actions(ctx, game.state)]
    targets = [(h,) for h in range(0, ctx.n, max(1, ctx.n // 40))]
    expected_fields = [cost_field(ctx, 0, t).copy() for t in targets]
    ctx.caches.clear()  # start cold: both threads fill the same caches at once
    errors: list[str] = []

    def work(order: int) -> None:
        try:
            for k in range(3):
                state = game.state.clone()
                make_board(ctx, state)
                if [str(a) for a in legal_actions(ctx, state)] != expected_actions:
                    errors.append(f"thread {order}: legal actions differ (pass {k})")
                for t, want in list(zip(targets, expected_fields))[::(1 if order == 0 else -1)]:
                    if not np.array_equal(cost_field(ctx, 0, t), want):
                        errors.append(f"thread {order}: cost field to {t} differs")
        except Exception as exc:  # report whatever a thread raised
            errors.append(f"thread {order}: {exc!r}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(ctx.caches.cache("ai.cost_field", 4096)) == len(targets)
