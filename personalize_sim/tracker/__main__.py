"""``python -m personalize_sim.tracker``: one emulator process, configured through its stdin.

:class:`~personalize_sim.tracker.LocalTracker` starts it; see :mod:`._process`.
"""

import sys

from ._process import main

if __name__ == "__main__":
    sys.exit(main())
