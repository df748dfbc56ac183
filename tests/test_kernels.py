"""Every impl of every kernel against a plain reference, across chunk boundaries."""

from __future__ import annotations

import threading

import pytest

from gilkit.kernels import IN_CALL_PARALLEL, KERNELS, Task, mandelbrot, run_task, squares, triad
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
