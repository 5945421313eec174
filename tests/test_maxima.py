"""The blocks of spans give the maximum of any range of days, however long."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from themepark_tracker.storage import maxima

values = st.lists(st.one_of(st.none(), st.integers(0, 360)), min_size=1, max_size=1100)


@given(values=values, data=st.data())
def test_two_blocks_give_the_maximum_of_any_range(
    values: list[int | None], data: st.DataObject
) -> None:
    numbers = list(range(1, len(values) + 1))
    levels = maxima.forward(numbers, [{"ride": (v,)} for v in values], {})
    first = data.draw(st.integers(1, len(values)))
    last = data.draw(st.integers(first, min(len(values), first + maxima.MAX_DAYS - 1)))
    span = maxima.widest_span(last - first + 1)
    mid = first - 1 + span
    most = maxima.over_range(levels[last - 1]["ride"], levels[mid - 1]["ride"], span)
    known = [v for v in values[first - 1 : last] if v is not None]
    assert most == (max(known) if known else None,)


@given(values=values, split=st.integers(1, 1100))
def test_days_computed_from_stored_blocks_equal_days_computed_at_once(
    values: list[int | None], split: int
) -> None:
    """What a write does: the days from `split` on, from the blocks stored before it."""
    numbers = list(range(1, len(values) + 1))
    own = [{"ride": (v,)} for v in values]
    whole = maxima.forward(numbers, own, {})
    split = min(split, len(values))
    wanted = maxima.references(numbers[split - 1 :], split)
    stored = {(n, "ride"): whole[n - 1]["ride"] for n in wanted}
    assert maxima.forward(numbers[split - 1 :], own[split - 1 :], stored) == whole[split - 1 :]
