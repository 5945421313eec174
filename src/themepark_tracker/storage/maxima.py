"""Peak waits over any range of days, from two rows per ride.

A maximum is no difference of running totals. So each park day's row, and each ride's
row on it, also carries the highest posted wait of the 2, 4, ..., 256 park days ending
with it (`SPANS`, a sparse table), since a ranking sorts every ride by it. A range of
n park days is then covered by two blocks of the widest span not above n: one ending
on the range's last day, one ending `span` days after the day before the range. Park
days are counted (`day_number`), not dated, so a day without statistics (the park
closed, no polls) takes no room in a block.

Writing a day computes its blocks from those of the days before it, a span back
(`forward`); the days after it are computed again when it was written out of order.
Ranges of more than `MAX_DAYS` park days read the days instead (`statistics.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SPANS = tuple(2**k for k in range(1, 9))
#: The longest range two blocks cover.
MAX_DAYS = 2 * SPANS[-1]
PEAK_LEVELS = tuple(f"peak_wait_{span}d" for span in SPANS)

#: A row's own values, then those of each span of `SPANS` ending with it.
Levels = list[tuple[Any, ...]]


def widest_span(days: int) -> int:
    """The widest block (1: the day itself) that fits in `days` park days."""
    span = 1
    while span * 2 <= min(days, SPANS[-1]):
        span *= 2
    return span


def level(span: int) -> int:
    """The index in `Levels` of the blocks of `span` days."""
    return span.bit_length() - 1


def larger(a: Any, b: Any) -> Any:
    """The larger of two maxima, either of which may be unknown (None)."""
    if a is None:
        return b
    if b is None or a >= b:
        return a
    return b


def _combined(left: tuple[Any, ...], right: tuple[Any, ...] | None) -> tuple[Any, ...]:
    if right is None:
        return left
    return tuple(larger(a, b) for a, b in zip(left, right, strict=True))


def references(numbers: Iterable[int], first: int) -> set[int]:
    """The day numbers before `first` whose blocks the days `numbers` are built from."""
    return {
        number - span // 2
        for number in numbers
        for span in SPANS
        if 1 <= number - span // 2 < first
    }


def forward(
    numbers: Sequence[int],
    own: Sequence[Mapping[Any, tuple[Any, ...]]],
    stored: Mapping[tuple[int, Any], Levels],
) -> list[dict[Any, Levels]]:
    """The levels of each key (a ride, or the park) on consecutive day numbers
    `numbers`, from its own values there (`own`, in the same order) and the levels
    `stored` for the days before them (by (day number, key): `references`)."""
    first = numbers[0] if numbers else 0
    found: list[dict[Any, Levels]] = []
    for position, (number, values) in enumerate(zip(numbers, own, strict=True)):
        day: dict[Any, Levels] = {}
        for key, value in values.items():
            levels: Levels = [value]
            for span in SPANS:
                back = number - span // 2
                earlier = (
                    found[position - span // 2].get(key)
                    if back >= first
                    else stored.get((back, key))
                )
                levels.append(
                    _combined(levels[-1], None if earlier is None else earlier[level(span) - 1])
                )
            day[key] = levels
        found.append(day)
    return found


def over_range(end: Levels | None, start: Levels | None, span: int) -> tuple[Any, ...] | None:
    """The maxima of a range from the blocks of `span` days ending on its last day
    (`end`) and ending `span` days after the day before it (`start`, None: the key has
    no row there, and the first block covers all it has)."""
    if end is None:
        return None
    index = level(span)
    return _combined(end[index], None if start is None else start[index])
