"""Allow ``python -m visionedge``."""

import sys

from visionedge.cli import main

sys.exit(main())
