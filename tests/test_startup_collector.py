"""Importing the package pauses the cyclic garbage collector and freezes what the imports
made (objects that live as long as the process), then leaves the collector running."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_runs_no_full_collection_and_leaves_the_collector_running():
    check = (
        "import gc; import donations; "
        "print(gc.isenabled(), gc.get_freeze_count() > 50_000, gc.get_stats()[2]['collections'])"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "0"]


def test_a_process_that_paused_the_collector_finds_it_paused_after_importing():
    check = "import gc; gc.disable(); import donations; print(gc.isenabled())"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]
