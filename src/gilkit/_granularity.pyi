"""Stubs for gilkit._granularity (ext/_granularity.pyx): nogil loops that take the GIL back
every k iterations, for `gilkit granularity`. Each returns (sum of i*i over the iterations
done modulo 2**64, iterations done); budget_s > 0 stops it after that many seconds."""

from collections.abc import Callable

def squares_calling_back(
    start: int, stop: int, k: int, callback: Callable[[], object], budget_s: float = 0.0
) -> tuple[int, int]: ...
def squares_checking_signals(
    start: int, stop: int, k: int, budget_s: float = 0.0
) -> tuple[int, int]: ...
