"""Benchmarks: ``python -m bench NAME [--quick] [--json]``. Each prints figures beside a baseline measured in the
same run; nothing here asserts on time. See bench/README.md for the method."""
