import subprocess
import sys

import paritylab


def test_every_export_resolves():
    for name in paritylab.__all__:
        assert getattr(paritylab, name) is not None, name


def test_import_is_lazy():
    code = "import sys, paritylab; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
