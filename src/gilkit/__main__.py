"""`python -m gilkit` is the `gilkit` command."""

from gilkit.cli import command

command()
