"""demine benchmarks: `python -m benchmarks` (see benchmarks/README.md); not timed tests."""
