"""`python -m qa` works like `newsqa`."""

import sys

from qa.cli import main

sys.exit(main())
