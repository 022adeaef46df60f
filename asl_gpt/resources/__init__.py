"""Where the shipped files are: the default recognizer (`models/`) and knowledge base (`knowledge/`).

They live in the checkout's top-level folders (fixed by the design). pyproject.toml maps those folders
onto the packages `asl_gpt.resources.models` and `asl_gpt.resources.knowledge`, so a wheel carries them
here, inside this package, read through importlib.resources. An editable install or a bare checkout has
nothing here (setuptools' editable finder cannot import a mapped folder without an __init__.py), so the
top-level folder of the checkout this module sits in is used.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped_dir(name: str) -> Path:
    """The folder of shipped files `name` ("models" or "knowledge"): in the installed package, else the checkout's."""
    packaged = files(__name__).joinpath(name)
    if packaged.is_dir():  # a wheel: unpacked on disk (settings hold Paths; zipped installs are not supported)
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent.parent / name


def models_dir() -> Path:
    return shipped_dir("models")


def knowledge_dir() -> Path:
    return shipped_dir("knowledge")
