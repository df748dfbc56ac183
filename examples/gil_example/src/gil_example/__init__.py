"""Two loops of the same C code: `squares` releases the GIL around its work, `squares_locked`
holds it (the control). The test suite says which one scales in threads."""

from gil_example._loops import squares, squares_locked

__all__ = ["squares", "squares_locked"]
