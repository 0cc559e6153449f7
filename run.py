"""Run session-counter: python run.py [--host H] [--port P] [--threads N] [--workers N]."""

import sys

from session_counter.servers.serve import main

if __name__ == "__main__":
    sys.exit(main())
