"""A bare viewflow flow with the tech-transfer grant's shape and no project code around it: the
baseline `bench/engine.py` measures the engine's transitions against. Only the benchmark's
settings (`bench.settings`) install it; it has no models (viewflow's own Process and Task)."""
