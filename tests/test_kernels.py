"""Every impl of every kernel against a plain reference, across chunk boundaries."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gilkit.kernels import IN_CALL_PARALLEL, KERNELS, Task, mandelbrot, run_task, squares, triad
from gilkit.kernels.impls import impl_unavailable_reason
from gilkit.kernels.shared_arrays import attach
from gilkit.kernels.splitting import split

from .conftest import CPU_KERNELS, impl_params, requires_native, requires_openmp

# n = 0 and 1, n smaller than the parts, n not divisible by the parts.
SIZES_AND_PARTS = [(0, 1), (1, 1), (1, 3), (2, 5), (17, 4), (1000, 3), (1001, 7)]


def compute(kernel: str, impl: str, n: int, n_parts: int, how: str = "contiguous") -> object:
    k = KERNELS[kernel]
    with k.params_for(n, how) as params:
        if impl in IN_CALL_PARALLEL:
            tasks = [Task(kernel, impl, range(n), params, n_threads=n_parts)]
        else:
            tasks = [Task(kernel, impl, part, params) for part in split(n, n_parts, how)]
        return k.combine([run_task(task) for task in tasks])


def plain_squares(n: int) -> int:
    return sum(i * i for i in range(n)) % 2**64


@pytest.mark.parametrize("impl", impl_params())
@pytest.mark.parametrize(("n", "n_parts"), SIZES_AND_PARTS)
def test_squares_matches_plain_sum(impl: str, n: int, n_parts: int) -> None:
    assert compute("squares", impl, n, n_parts) == plain_squares(n)


@pytest.mark.parametrize("impl", impl_params())
def test_squares_wraps_modulo_2_to_the_64(impl: str) -> None:
    # Past n ~ 4.8e6 the true sum exceeds 2**64: start near there, so every impl wraps.
    start = 5_000_000
    with KERNELS["squares"].params_for(start + 1000, "contiguous") as params:
        n_threads = (2,) if impl in IN_CALL_PARALLEL else ()
        got = run_task(Task("squares", impl, range(start, start + 1000), params, *n_threads))
    assert got == sum(i * i for i in range(start, start + 1000)) % 2**64
    assert squares.reference(5_000_000) == plain_squares(5_000_000)


@pytest.mark.parametrize("impl", impl_params())
@pytest.mark.parametrize(("n", "n_parts"), SIZES_AND_PARTS)
def test_triad_matches_plain_sum(impl: str, n: int, n_parts: int) -> None:
    plain = sum(float(i % 7) + 3.0 * float(i % 11) for i in range(n))
    assert compute("triad", impl, n, n_parts) == plain == triad.reference(n)


@given(st.integers(min_value=0, max_value=5_000))
def test_triad_arrays_follow_their_rule_at_every_length(length: int) -> None:
    import numpy as np

    a, b, c = (np.full(length, -1.0) for _ in range(3))
    triad._fill(a, b, c)
    assert not a.any()
    assert b.tolist() == [float(i % 7) for i in range(length)]
    assert c.tolist() == [float(i % 11) for i in range(length)]


@pytest.mark.parametrize("impl", impl_params())
def test_triad_writes_a(impl: str) -> None:
    with KERNELS["triad"].params_for(50, "contiguous") as data:
        n_threads = (2,) if impl in IN_CALL_PARALLEL else ()
        run_task(Task("triad", impl, range(10, 50), data, *n_threads))
        a, b, c = attach(data.arrays)
        assert list(a[10:50]) == [b[i] + 3.0 * c[i] for i in range(10, 50)]
        assert not a[:10].any()


def plain_mandelbrot(n_rows: int) -> int:
    """The same iteration, written with complex numbers and sharing no code with the kernel.

    The operations and their order match the kernel's, so the counts must match exactly.
    """
    grid = mandelbrot.make_grid(n_rows)
    total = 0
    for row in range(n_rows):
        for col in range(grid.width):
            c = complex(grid.x_min + col * grid.dx, grid.y_min + row * grid.dy)
            z, it = 0j, 0
            while it < grid.max_iter and z.real * z.real + z.imag * z.imag <= 4.0:
                z = complex(
                    z.real * z.real - z.imag * z.imag + c.real, 2.0 * z.real * z.imag + c.imag
                )
                it += 1
            total += it
    return total


@pytest.mark.parametrize("how", mandelbrot.KERNEL.splits)
@pytest.mark.parametrize("impl", impl_params())
@pytest.mark.parametrize(("n", "n_parts"), [*SIZES_AND_PARTS[:-2], (24, 5)])
def test_mandelbrot_matches_plain_loop(impl: str, n: int, n_parts: int, how: str) -> None:
    assert compute("mandelbrot", impl, n, n_parts, how) == plain_mandelbrot(n)


@pytest.mark.parametrize("impl", impl_params(["python", "cython-nogil"]))
def test_triad_parts_in_threads_at_once_never_meet_a_released_buffer(impl: str) -> None:
    """On free-threaded 3.13, threads that slice one memoryview at once can release it under
    each other (CPython gh-155606): this interpreter hands triad NumPy arrays instead."""
    k = KERNELS["triad"]
    errors: list[str] = []
    with k.params_for(4096, "contiguous") as data:

        def work(first: int) -> None:
            try:
                for _ in range(2000):
                    run_task(Task("triad", impl, range(first, first + 16), data))
            except Exception as error:
                errors.append(repr(error))

        threads = [threading.Thread(target=work, args=(16 * i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


def test_mandelbrot_rows_cost_unevenly() -> None:
    grid = mandelbrot.make_grid(40)
    per_row = [mandelbrot.chunk_python(range(row, row + 1), grid) for row in range(40)]
    assert max(per_row) > 5 * min(per_row)


@requires_openmp
@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
def test_prange_thread_count_does_not_change_the_result(kernel: str, n_threads: int) -> None:
    n = 301 if kernel != "mandelbrot" else 30
    assert compute(kernel, "cython-prange", n, n_threads) == compute(kernel, "python", n, 1)


@requires_native
@pytest.mark.parametrize("fn", ["squares", "squares_nogil", "mandelbrot", "mandelbrot_nogil"])
def test_native_entry_points_reject_bad_ranges(fn: str) -> None:
    from gilkit import _native

    extra = (10, 50, -2.0, 0.1, -1.0, 0.1) if fn.startswith("mandelbrot") else ()
    with pytest.raises(ValueError, match="step >= 1"):
        getattr(_native, fn)(0, 10, 0, *extra)
    with pytest.raises(ValueError, match="start >= 0"):
        getattr(_native, fn)(-1, 10, 1, *extra)


@requires_native
def test_native_triad_rejects_mismatched_lengths() -> None:
    import numpy as np

    from gilkit import _native

    with pytest.raises(ValueError, match="one length"):
        _native.triad_nogil(np.zeros(3), np.zeros(3), np.zeros(4), 1.0)


@pytest.fixture
def small_memory_budget(monkeypatch: pytest.MonkeyPatch) -> int:
    """A budget of 1,000 elements: the arrays hold 924 (12 periods of 77)."""
    monkeypatch.setattr(triad, "memory_budget_bytes", lambda: 1_000 * triad.BYTES_PER_ELEMENT)
    return triad.array_length(10**9)


@pytest.mark.parametrize("impl", impl_params())
@pytest.mark.parametrize(("n", "n_parts"), [(5_000, 1), (5_000, 3), (10_007, 7), (1_001, 2)])
def test_triad_past_its_memory_budget_passes_over_its_arrays_again(
    small_memory_budget: int, impl: str, n: int, n_parts: int
) -> None:
    assert small_memory_budget == 924
    with KERNELS["triad"].params_for(n, "contiguous") as data:
        assert (data.n, data.length, data.arrays.length) == (n, 924, 924)
    assert compute("triad", impl, n, n_parts) == triad.reference(n)


def test_a_call_within_the_budget_has_arrays_of_its_own_length(small_memory_budget: int) -> None:
    assert triad.array_length(1_000) == 1_000
    assert triad.array_length(1_001) == 924
    assert triad.memory_note(1_000) is None
    note = triad.memory_note(9_240)
    assert note is not None
    assert "arrays hold 924" in note
    assert "10.0 times" in note


@given(
    n=st.integers(1, 10**12),
    blocks=st.integers(2, 10**4),
    n_parts=st.integers(1, 64),
)
def test_the_segments_of_parts_read_their_own_elements_values_and_never_overlap(
    n: int, blocks: int, n_parts: int
) -> None:
    """Every segment lies in the arrays and starts where its element would (modulo 77), so
    it reads that element's b and c; parts that run at once write apart (where each part's
    share of the arrays is a few periods: millions of elements against at most a few hundred
    parts in a run)."""
    assume(blocks >= 4 * n_parts)
    length = blocks * triad.PERIOD
    regions = []
    for part in split(n, n_parts, "contiguous"):
        done, lows, highs = 0, [], []
        for lo, hi in itertools.islice(triad.segments(part, n, length), 50):
            assert 0 <= lo < hi <= length
            assert (lo - (part.start + done)) % triad.PERIOD == 0
            done += hi - lo
            lows.append(lo)
            highs.append(hi)
        if lows:
            regions.append((min(lows), max(highs)))
    regions.sort()
    for (_, end), (start, _) in itertools.pairwise(regions):
        assert end <= start


@pytest.mark.parametrize("impl", ["python", "numpy", "cython-nogil"])
def test_triad_elsewhere_makes_its_own_arrays_with_the_same_values(impl: str) -> None:
    """Workers on another host get no shared memory: their arrays, made there, agree."""
    if impl_unavailable_reason(impl) is not None:
        pytest.skip(str(impl_unavailable_reason(impl)))
    with KERNELS["triad"].params_for(1_000, "contiguous") as data:
        remote = triad.elsewhere(data)
    assert remote.arrays is None  # nothing of this host's memory travels
    parts = split(1_000, 3, "contiguous")
    got = sum(run_task(Task("triad", impl, part, remote)) for part in parts)
    assert got == triad.reference(1_000)
