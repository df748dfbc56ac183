from __future__ import annotations

import pytest

from gilkit.kernels.splitting import SPLITS, split


@pytest.mark.parametrize("how", SPLITS)
@pytest.mark.parametrize(
    ("n", "n_parts"), [(0, 1), (0, 3), (1, 1), (1, 4), (10, 3), (7, 7), (3, 8)]
)
def test_parts_cover_every_index_once(n: int, n_parts: int, how: str) -> None:
    parts = split(n, n_parts, how)
    assert len(parts) == n_parts
    assert sorted(i for part in parts for i in part) == list(range(n))
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= 1


def test_contiguous_parts_are_ranges_in_order() -> None:
    assert split(10, 3) == [range(0, 4), range(4, 7), range(7, 10)]


def test_interleaved_parts_are_round_robin() -> None:
    assert split(7, 3, "interleaved") == [range(0, 7, 3), range(1, 7, 3), range(2, 7, 3)]


@pytest.mark.parametrize(
    ("n", "n_parts", "how", "message"),
    [
        (-1, 2, "contiguous", "n must be >= 0"),
        (5, 0, "contiguous", "n_parts must be >= 1"),
        (5, 2, "diagonal", "unknown split 'diagonal'"),
    ],
)
def test_bad_arguments_are_named(n: int, n_parts: int, how: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split(n, n_parts, how)
