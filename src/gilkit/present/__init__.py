"""Everything that turns a result file into something to read: terminal tables, Markdown,
plots, a comparison of two runs, several interpreters side by side.

These modules read result files only (gilkit.model.results); they never measure, and a kernel need
not be importable for its results to be shown.
"""
