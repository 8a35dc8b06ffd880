"""Benchmark and large-input tooling for reportgen: a deterministic CAVRA evidence generator."""
