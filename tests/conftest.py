"""Shared test set-up: make the test helpers importable."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
# Annotations turn on by themselves under GitHub Actions; tests that want them ask for them, so a
# suite run there sees the same stderr as anywhere else.
os.environ.pop("GITHUB_ACTIONS", None)
