"""``python -m sim`` is the ``poolsim`` command."""
import sys

from .cli import main

sys.exit(main())
