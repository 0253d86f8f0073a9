"""The numerical core and the file readers never pull in Qt."""

import subprocess
import sys


def test_core_and_io_do_not_import_qt():
    code = (
        "import sys, pkgutil, importlib\n"
        "import cfexplorer.core, cfexplorer.io, cfexplorer.cli\n"
        "for package in (cfexplorer.core, cfexplorer.io):\n"
        "    for module in pkgutil.iter_modules(package.__path__):\n"
        "        importlib.import_module(f'{package.__name__}.{module.name}')\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "print(','.join(leaked))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
