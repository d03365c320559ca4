"""Packaging glue pyproject.toml cannot express: the top-level static/ folder ships in the wheel as
smart_app/static/, where create_app finds it when the app is installed rather than run from source."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithStatic(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install serves static/ from the source tree
            self.copy_tree("static", str(Path(self.build_lib) / "smart_app" / "static"))


setup(cmdclass={"build_py": BuildPyWithStatic})
