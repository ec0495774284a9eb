"""``python -m personalize_sim.cli``: the ``personalize-sim`` command."""

import sys

from . import main

sys.exit(main())
