"""run_plan: the session, one measured call, the GIL monitor, limits and signals, memory,
interference."""
