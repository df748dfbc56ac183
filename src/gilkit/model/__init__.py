"""Plain data every layer shares: cells, plans, the result file, the facts they are written in."""
