"""Benchmarks of the Ashiato LRS (see bench/README.md)."""
