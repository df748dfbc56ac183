"""The machine: usable cpus, metadata, the speed reference, capacity, native thread pools,
interpreters."""
