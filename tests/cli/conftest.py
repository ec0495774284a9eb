"""Running the command line as a user does: ``personalize-sim ARGV`` in its own process."""

from __future__ import annotations

import subprocess
import sys


def cli(*argv: str) -> subprocess.CompletedProcess:
    """``personalize-sim ARGV`` in a subprocess; its exit code, stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "personalize_sim.cli", *argv],
                          capture_output=True, text=True, check=False)  # fmt: skip
