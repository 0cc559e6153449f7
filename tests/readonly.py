"""Make a folder truly read-only for a test, even when the tests run as root.

Root ignores permission bits, so chmod alone proves nothing there; the immutable
attribute (chattr +i) stops root too. Not root: plain chmod is real.
"""

import contextlib
import os
import subprocess

import pytest


@contextlib.contextmanager
def read_only(path):
    """Within the block, nobody (root included) can create files in ``path``."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make {path} immutable here: {done.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = os.stat(path).st_mode
        os.chmod(path, 0o500)
        try:
            yield
        finally:
            os.chmod(path, mode)
