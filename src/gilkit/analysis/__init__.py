"""The judge: every derived figure and verdict, computed once from a result file."""
