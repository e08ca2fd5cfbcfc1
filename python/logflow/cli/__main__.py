"""``python -m logflow.cli``."""

import sys

from logflow.cli.app import main

sys.exit(main())
