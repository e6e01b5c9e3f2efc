"""Build step that pyproject.toml cannot express: what a wheel must carry beyond the Python code.

A checkout keeps ``templates/``, ``static/`` and ``migrations/`` at the top level (where Flask's and
Alembic's conventions put them) and compiles the translation catalogues with ``make translations``. A
wheel has neither a checkout nor make, so building one copies the three folders into the package and
compiles every ``messages.po`` into its ``messages.mo``; ``samrad.resource_dir`` finds them either way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("templates", "static", "migrations")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the checkout's own folders
        package = Path(self.build_lib) / "samrad"
        for name in BUNDLED:
            target = package / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(HERE / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        self._compile_catalogues(package / "translations")

    @staticmethod
    def _compile_catalogues(translations: Path) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po_path in translations.glob("*/LC_MESSAGES/messages.po"):
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with po_path.with_suffix(".mo").open("wb") as mo_file:
                write_mo(mo_file, catalog)


setup(cmdclass={"build_py": BuildWithResources})
