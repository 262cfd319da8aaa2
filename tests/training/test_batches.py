"""Per-mechanic balanced batches: every failure mechanic is in every GRPO batch, the draw is seeded."""

from __future__ import annotations

import random
from collections import Counter

from training_ray.ui_policy import balanced_batch


def _scenarios() -> list:
    mechs = ["covered"] * 2 + ["absent"] * 9 + ["disabled"] * 6 + ["offscreen"]
    return [{"mechanics": [m], "i": i} for i, m in enumerate(mechs)]


def test_each_mechanic_is_drawn_in_turn_and_nothing_twice():
    batch = balanced_batch(_scenarios(), 8, random.Random(3))
    counts = Counter(sc["mechanics"][0] for sc in batch)
    # round robin: one of each, then the second covered and one more of the others, then one more
    assert counts["covered"] == 2 and counts["offscreen"] == 1
    assert sorted((counts["absent"], counts["disabled"])) == [2, 3]
    assert len({sc["i"] for sc in batch}) == len(batch) == 8


def test_a_small_set_is_taken_whole_and_the_draw_is_repeatable():
    assert balanced_batch(_scenarios()[:5], 8, random.Random(0)) == _scenarios()[:5]
    assert balanced_batch(_scenarios(), 6, random.Random(9)) == balanced_batch(_scenarios(), 6, random.Random(9))
    assert {sc["mechanics"][0] for sc in balanced_batch(_scenarios(), 4, random.Random(1))} == \
        {"covered", "absent", "disabled", "offscreen"}
