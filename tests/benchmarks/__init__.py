"""Benchmark of the state backends: requests, capacity, cost and speed per task.

Run with ``python -m tests.benchmarks`` (``--quick`` for a smaller run). Files here are not
named ``test_*`` so pytest never collects them.
"""
