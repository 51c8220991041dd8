"""The runtime must import and run without torch."""
import subprocess
import sys

CODE = """
import sys
sys.modules['torch'] = None  # any 'import torch' now fails
import livejam, livejam.model.vocab, livejam.model.encoder, livejam.model.sampler, livejam.model.onnx_model, livejam.app.cli
assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]
print('ok')
"""


def test_runtime_imports_without_torch():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_importing_the_runtime_does_not_import_torch():
    code = "import sys, livejam, livejam.model.onnx_model, livejam.app.cli; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr
