"""A type check of the package for each platform livejam runs on besides this one
(mypy --platform): a name the platform lacks (signal.SIGHUP on Windows,
os.sched_setscheduler on a Mac, os.set_blocking on Windows before 3.12), used
outside a check mypy reads (`if sys.platform == ...`), would crash livejam there.
Only those errors count here: the package is not typed throughout."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# mypy's words for a module attribute the platform's stubs do not have.
MISSING = re.compile(r'error: (Module has no attribute|Module "[\w.]+" has no attribute|Name "[\w.]+" is not defined)')


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_no_name_the_platform_lacks_is_used_unguarded(platform, tmp_path):
    r = subprocess.run([sys.executable, "-m", "mypy", "--platform", platform, "--python-version", "3.11",
                        "--ignore-missing-imports", "--follow-imports=silent", "--no-error-summary",
                        "--cache-dir", str(tmp_path), "livejam"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "livejam" in r.stdout or r.returncode == 0, r.stderr  # mypy ran over the package
    missing = [line for line in r.stdout.splitlines() if MISSING.search(line)]
    assert missing == [], "\n".join(missing)


def test_the_check_sees_a_name_windows_lacks(tmp_path):
    """The check itself: code that uses SIGHUP unguarded fails it for Windows, passes it guarded."""
    bad = tmp_path / "bad.py"
    bad.write_text("import signal\nsignal.signal(signal.SIGHUP, signal.SIG_DFL)\n")
    good = tmp_path / "good.py"
    good.write_text("import signal\nimport sys\nif sys.platform != 'win32':\n"
                    "    signal.signal(signal.SIGHUP, signal.SIG_DFL)\n")
    out = {}
    for f in (bad, good):
        r = subprocess.run([sys.executable, "-m", "mypy", "--platform", "win32", "--no-error-summary",
                            "--cache-dir", str(tmp_path / "cache"), str(f)], capture_output=True, text=True, timeout=300)
        out[f.name] = [line for line in r.stdout.splitlines() if MISSING.search(line)]
    assert len(out["bad.py"]) == 1 and out["good.py"] == []
