"""Find gpt-oss GGUFs already on disk, so a 12 GB download is never offered for a file the person has.

Looks in the Hugging Face cache, LM Studio's models folders and Ollama's store (whose
blobs are GGUF files named by digest, found through its manifests), plus any file
passed in. Every candidate is vetted from its header: a truncated, damaged or
non-GGUF file is reported with the reason and never offered as usable.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..files import read_regular
from ..local.gguf_file import GGUFError, read_architecture, read_gguf

#: The most read of a small text file of another tool (a ref, a manifest): they are a few kB.
SMALL_FILE_LIMIT = 1 << 20

GPT_OSS = "gpt-oss"
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_REGISTRY = "registry.ollama.ai"
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
_FIRST_SPLIT = re.compile(r"^(?P<prefix>.*)-00001-of-(?P<count>\d{5})\.gguf$")


class Source(StrEnum):
    HF_CACHE = "Hugging Face cache"
    LM_STUDIO = "LM Studio"
    OLLAMA = "Ollama"
    PICKED = "chosen file"


@dataclass(frozen=True)
class FoundModel:
    """A model file on disk and whether it can be used; `problem` says why not, for people."""

    path: Path
    source: Source
    label: str
    size: int
    architecture: str | None
    problem: str | None

    @property
    def usable(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class SearchRoots:
    """Folders to search; tests pass temporary ones, the app takes them from the environment."""

    hf_cache: Path | None = None
    lm_studio: tuple[Path, ...] = ()
    ollama: tuple[Path, ...] = ()

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None, home: Path | None = None) -> SearchRoots:
        """The usual places, honouring HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME and OLLAMA_MODELS as those tools do."""
        env = os.environ if env is None else env
        real_machine = home is None
        home = Path.home() if home is None else home
        hub = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
        if hub:
            hf_cache = Path(hub).expanduser()
        elif env.get("HF_HOME"):
            hf_cache = Path(env["HF_HOME"]).expanduser() / "hub"
        else:
            hf_cache = Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "huggingface" / "hub"
        ollama = (
            [Path(env["OLLAMA_MODELS"]).expanduser()] if env.get("OLLAMA_MODELS") else [home / ".ollama" / "models"]
        )
        if real_machine and sys.platform == "linux":  # where Linux's system-wide Ollama service keeps its store
            ollama.append(Path("/usr/share/ollama/.ollama/models"))
        return cls(
            hf_cache=hf_cache,
            lm_studio=(home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"),
            ollama=tuple(ollama),
        )


def check_model(
    path: Path, source: Source = Source.PICKED, label: str | None = None, architecture: str | None = GPT_OSS
) -> FoundModel:
    """Vet one file: GGUF signature and version, architecture (unless None), all tensor data present."""
    path = Path(path)
    label = label or path.name
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    arch: str | None = None
    try:
        arch = read_architecture(path)
        problem = _architecture_problem(label, arch, architecture)
        if problem is None:
            header = read_gguf(path)
            problem = _split_problem(path, label, header.get_int("split.count"))
            if header.metadata.get("general.type") == "adapter":
                problem = f"{label} is a LoRA adapter, not a model: apply it to the model it was made for."
    except GGUFError as exc:
        problem = str(exc)
    return FoundModel(path, source, label, size, arch, problem)


def _architecture_problem(label: str, found: str | None, wanted: str | None) -> str | None:
    if wanted is None or found == wanted:
        return None
    if found == "gptoss":
        return (
            f"{label} is Ollama's own conversion of gpt-oss, which llama.cpp cannot load; "
            "download the GGUF from Hugging Face instead."
        )
    if found is None:
        return f"{label} does not say which model it holds, so it is not a {wanted} model llama.cpp can load."
    return f"{label} holds a {found} model, not {wanted}."


def _split_problem(path: Path, label: str, count: int | None) -> str | None:
    """A model split over several files loads from its first part, and only when every part is there."""
    if not count or count < 2:
        return None
    match = _FIRST_SPLIT.match(path.name)
    if match is None:
        return f"{label} is one part of a model split over {count} files; choose the part named -00001-of-."
    parts = [path.with_name(f"{match['prefix']}-{i:05d}-of-{match['count']}.gguf") for i in range(1, count + 1)]
    missing = [p.name for p in parts if not p.is_file()]
    return f"{label} is the first of {count} parts, and {', '.join(missing)} is missing." if missing else None


def _is_later_split_part(path: Path) -> bool:
    return re.search(r"-(\d{5})-of-\d{5}\.gguf$", path.name) is not None and not _FIRST_SPLIT.match(path.name)


def hf_cache_candidates(hub: Path) -> Iterator[tuple[Path, str]]:
    """GGUFs in a Hugging Face cache (`models--owner--name/snapshots/<commit>/...`), labelled `owner/name/file`."""
    for repo in sorted(hub.glob("models--*")):
        repo_id = repo.name.removeprefix("models--").replace("--", "/")
        snapshots = sorted((repo / "snapshots").glob("*"))
        main = _read_text(repo / "refs" / "main")
        snapshots.sort(key=lambda s: s.name != main)  # the current revision first: it wins duplicates
        for snapshot in snapshots:
            for file in sorted(snapshot.rglob("*.gguf")):
                yield file, f"{repo_id}/{file.relative_to(snapshot).as_posix()}"


def lm_studio_candidates(root: Path) -> Iterator[tuple[Path, str]]:
    """GGUFs in an LM Studio models folder (`publisher/repo/file.gguf`), labelled by that relative path."""
    for file in sorted(root.rglob("*.gguf")):
        yield file, file.relative_to(root).as_posix()


def ollama_candidates(root: Path) -> Iterator[tuple[Path, str | None, str]]:
    """(blob, problem, label) per Ollama manifest: the blob holding the model weights, or why there is none."""
    manifests = root / "manifests"
    for manifest in sorted(manifests.rglob("*")):
        if not manifest.is_file():
            continue
        label = _ollama_label(manifest.relative_to(manifests).parts)
        try:
            data = json.loads(read_regular(manifest, SMALL_FILE_LIMIT).decode("utf-8"))
            layers = data["layers"] if isinstance(data, dict) else []
            digests = [layer["digest"] for layer in layers if layer.get("mediaType") == OLLAMA_MODEL_LAYER]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            yield manifest, f"Ollama's entry for {label} cannot be read.", label
            continue
        match = _DIGEST.fullmatch(digests[0]) if digests and isinstance(digests[0], str) else None
        if match is None:
            yield manifest, f"Ollama's entry for {label} names no model file.", label
            continue
        blob = root / "blobs" / f"sha256-{match[1]}"
        yield blob, None if blob.is_file() else f"Ollama's model file for {label} is missing.", label


def _ollama_label(parts: tuple[str, ...]) -> str:
    """`gpt-oss:20b` for the official library, `user/model:tag` or `host/user/model:tag` otherwise."""
    if len(parts) < 2:
        return "/".join(parts)
    name, tag = "/".join(parts[:-1]), parts[-1]
    name = name.removeprefix(f"{OLLAMA_REGISTRY}/").removeprefix("library/")
    return f"{name}:{tag}"


def _read_text(path: Path) -> str:
    try:
        return read_regular(path, SMALL_FILE_LIMIT).decode("utf-8", errors="replace").strip()
    except (OSError, ValueError):
        return ""


def discover_models(
    roots: SearchRoots | None = None,
    files: Iterable[Path] = (),
    architecture: str | None = GPT_OSS,
    include_other_models: bool = False,
) -> list[FoundModel]:
    """Every candidate found, usable ones first, each file once.

    Files of another architecture in the stores are left out unless `include_other_models`
    (they are someone's other models, not broken gpt-oss files); files passed in `files`
    are always reported.
    """
    roots = SearchRoots.from_environment() if roots is None else roots
    found: list[FoundModel] = [check_model(Path(f), Source.PICKED, architecture=architecture) for f in files]
    seen = {_identity(m.path) for m in found}

    def add(path: Path, source: Source, label: str, problem: str | None = None) -> None:
        identity = _identity(path)
        if identity in seen or _is_later_split_part(path):
            return
        seen.add(identity)
        if problem is not None:
            found.append(FoundModel(path, source, label, 0, None, problem))
            return
        model = check_model(path, source, label, architecture)
        other = model.architecture not in (architecture, "gptoss", None) and architecture is not None
        if not other or include_other_models:
            found.append(model)

    if roots.hf_cache is not None:
        for path, label in hf_cache_candidates(roots.hf_cache):
            add(path, Source.HF_CACHE, label)
    for root in roots.lm_studio:
        for path, label in lm_studio_candidates(root):
            add(path, Source.LM_STUDIO, label)
    for root in roots.ollama:
        for path, problem, label in ollama_candidates(root):
            add(path, Source.OLLAMA, label, problem)
    return sorted(found, key=lambda m: not m.usable)


def _identity(path: Path) -> Path:
    """The real file behind links (HF snapshots link to blobs), so one file is listed once."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
