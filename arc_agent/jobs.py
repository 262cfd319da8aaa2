"""Starting a training job (``training_ray.*``) from ``arc``: in a child process, because the agent
never imports training code; ``RAY_ADDRESS`` and every option pass through."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from typing import Sequence


def run(module: str, needs: Sequence[str], options: Sequence[str]) -> int:
    """Exit status of ``python -m MODULE OPTIONS...``; a missing module of ``needs`` is raised here
    as ``ModuleNotFoundError`` (``arc`` names the extra to install) rather than as the child's traceback."""
    for name in needs:
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(name, name=name)
    try:
        return subprocess.call([sys.executable, "-m", module, *options], env=dict(os.environ))
    except KeyboardInterrupt:
        return 130
