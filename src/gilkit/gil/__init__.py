"""What a call does with the GIL: the probe, kind inference for users' impls, granularity."""
