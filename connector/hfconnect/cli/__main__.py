"""`python -m hfconnect.cli ...` (how LocalHub starts the server in a child process)."""

import sys

from . import main

sys.exit(main())
