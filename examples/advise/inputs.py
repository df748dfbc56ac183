"""Inputs for the worked examples of docs/advise.md, made the same on every run:

cd examples/advise
gilkit advise textwrap:fill --inputs inputs:TEXTS --kwarg width=60
gilkit advise numpy:sort --inputs inputs:small_arrays
gilkit advise textwrap:fill --inputs inputs:short_texts
"""

from __future__ import annotations

import random
from typing import Any

_words = random.Random(0).choices(["gil", "thread", "process", "kernel", "worker", "pool"], k=4000)
# 64 texts of 4,000 words: textwrap.fill, pure Python, takes a few ms on each.
TEXTS = [" ".join(_words[i:] + _words[:i]) for i in range(64)]


def small_arrays() -> list[Any]:
    """2,048 float64 arrays of 1,000 values: numpy.sort takes microseconds on each."""
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.random(1000) for _ in range(2048)]


def short_texts() -> list[str]:
    """20,000 texts of 40 words: textwrap.fill takes tens of µs on each."""
    return [" ".join(_words[i : i + 40]) for i in range(20_000)]


def medium_texts() -> list[str]:
    """5,000 texts of 300 words: textwrap.fill takes tens of µs on each, a few KiB to move."""
    return [" ".join(_words[i : i + 300]) for i in range(5_000)]
