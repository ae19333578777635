"""Offline fixtures: real PoolFormer architectures with seeded random weights, saved the two
ways users have them (a `save_pretrained` folder, and a Hugging Face cache laid out as the hub
would), so both loading paths run for real without a network."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# huggingface_hub reads these when it is first imported, so they are set before anything imports it.
_SESSION_ROOT = Path(tempfile.mkdtemp(prefix="poolformer-tests-"))
os.environ["HF_HOME"] = str(_SESSION_ROOT / "hf-home")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("POOLFORMER_WEIGHTS_DIR", None)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import PoolFormerConfig, PoolFormerForImageClassification, PoolFormerImageProcessor  # noqa: E402

from poolformer_demo import ModelCache, get_variant  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"
# A handful of readable names, so tests can target classes by label and by synonym.
NAMED_LABELS = {0: "tench, Tinca tinca", 1: "goldfish, Carassius auratus", 281: "tabby, tabby cat", 282: "tiger cat"}


def id2label(num_labels: int = 1000) -> dict[int, str]:
    return {i: NAMED_LABELS.get(i, f"class {i}") for i in range(num_labels)}


def build_checkpoint(variant_name: str, folder: Path, seed: int = 0) -> Path:
    """Save a real-architecture, random-weight checkpoint with the processor its release uses."""
    variant = get_variant(variant_name)
    torch.manual_seed(seed)
    config = PoolFormerConfig(
        depths=list(variant.depths),
        hidden_sizes=list(variant.hidden_sizes),
        num_labels=1000,
        id2label=id2label(),
        label2id={v: k for k, v in id2label().items()},
        # The released checkpoints' layer scales are far from the 1e-5 init; 1e-5 would make
        # every block an identity and hide mistakes in how stages are read.
        layer_scale_init_value=0.1,
    )
    model = PoolFormerForImageClassification(config)
    crop_pct = 0.95 if variant_name.startswith("m") else 0.9
    model.save_pretrained(folder)
    PoolFormerImageProcessor(crop_pct=crop_pct).save_pretrained(folder)
    return folder


def install_in_hf_cache(checkpoint: Path, hub_id: str, hub_cache: Path) -> Path:
    """Lay out a checkpoint as huggingface_hub's cache does after a download."""
    repo = hub_cache / f"models--{hub_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / FAKE_COMMIT
    snapshot.mkdir(parents=True, exist_ok=True)
    for file in checkpoint.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(FAKE_COMMIT)
    return snapshot


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """A $POOLFORMER_WEIGHTS_DIR holding s12 and m36 checkpoints."""
    root = _SESSION_ROOT / "weights"
    build_checkpoint("s12", root / "poolformer_s12", seed=0)
    build_checkpoint("m36", root / "poolformer_m36", seed=1)
    return root


@pytest.fixture(scope="session")
def hub_cache(weights_dir: Path) -> Path:
    """The session's Hugging Face cache with sail/poolformer_s12 in it, as after a download."""
    from huggingface_hub import constants

    cache = Path(constants.HF_HUB_CACHE)
    install_in_hf_cache(weights_dir / "poolformer_s12", "sail/poolformer_s12", cache)
    return cache


@pytest.fixture
def use_weights_dir(weights_dir: Path, monkeypatch) -> Path:
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
    return weights_dir


@pytest.fixture
def cache(use_weights_dir) -> ModelCache:
    """A fresh model cache reading from the session's weights folder."""
    return ModelCache(capacity=2)


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    return Image.open(ASSETS / "examples" / "chelsea.jpg").convert("RGB")


@pytest.fixture(scope="session")
def noise_image() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, size=(300, 400, 3), dtype=np.uint8))


@pytest.fixture(scope="session")
def all_variants_dir(weights_dir) -> Path:
    """A weights folder with every hub variant (the big ones take a few seconds each to build)."""
    root = _SESSION_ROOT / "all-weights"
    for name in ("s12", "s24", "s36", "m36", "m48"):
        folder = root / f"poolformer_{name}"
        existing = weights_dir / folder.name
        if existing.is_dir():
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.symlink_to(existing, target_is_directory=True)
        else:
            build_checkpoint(name, folder, seed=2)
    return root
