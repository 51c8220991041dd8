"""Only what pyproject.toml cannot say: the wheel carries the shipped default model.

exported/ stays the model's source of truth (with its card). A built wheel gets a
copy of both as package data in livejam/model/shipped/, where the runtime looks
first (livejam/model/onnx_model.py); a checkout or an editable install has no such
copy and reads exported/ itself."""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("default.onnx", "MODEL_CARD.md", "ATTRIBUTION.md")  # the credits its licence asks for travel with it


class BuildWithModel(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads exported/ in place
        target = Path(self.build_lib) / "livejam" / "model" / "shipped"
        target.mkdir(parents=True, exist_ok=True)
        for name in SHIPPED:
            self.copy_file(str(Path("exported") / name), str(target / name))


setup(cmdclass={"build_py": BuildWithModel})
