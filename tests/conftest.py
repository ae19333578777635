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
# Settings from a developer's shell would change what the tests see.
for _name in [n for n in os.environ if n.startswith(("POOLFORMER_", "GRADIO_SERVER_"))]:
    del os.environ[_name]

import shutil  # noqa: E402

import pytest  # noqa: E402
from browsing import CHROMIUM, CHROMIUM_ARGS, in_ci  # noqa: E402
from paths import AXE, PHOTO, STAR  # noqa: E402
from PIL import Image  # noqa: E402
from serving import serving  # noqa: E402

from poolformer_demo import ModelCache, analyze  # noqa: E402
from poolformer_demo.testing import build_checkpoint, install_in_hf_cache, torch_threads  # noqa: E402
from poolformer_demo.ui import build_demo  # noqa: E402
from poolformer_demo.ui.kit.pictures import image_key  # noqa: E402
from poolformer_demo.ui.kit.view import Session  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    # A run writes several hundred MB of checkpoints; leave the disk as it was found.
    shutil.rmtree(_SESSION_ROOT, ignore_errors=True)


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
    return Image.open(PHOTO).convert("RGB")


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


@pytest.fixture(scope="module")
def s12_cache(weights_dir) -> ModelCache:
    """A model cache with s12 loaded from the session's weights folder (later requests hit the cache)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
        cache = ModelCache()
        cache.get("s12")
    return cache


@pytest.fixture(scope="module")
def app_cache(weights_dir):
    """The model cache a served app uses, reading the session's weights folder while the module runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
        yield ModelCache(capacity=2)


@pytest.fixture(scope="module")
def served(app_cache):
    """The app, served on the loopback for the module: (demo, base URL)."""
    with serving(build_demo(cache=app_cache)) as served:
        yield served


@pytest.fixture(scope="module")
def client(served, tmp_path_factory):
    """A gradio_client that downloads result files, as a browser does."""
    from gradio_client import Client

    return Client(served[1], verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


@pytest.fixture(scope="module")
def runner():
    """The app's lanes on a runner of the module's own, following its computations every 20 ms."""
    from poolformer_demo.ui.kit.runs import app_runner

    runner = app_runner(2, refresh_s=0.02)
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules that mostly run the tiny shapes models: on a busy machine a second intra-op
    thread makes them many times slower."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def shapes_model():
    """The bundled shapes model in a cache of its own: (cache, loaded model)."""
    cache = ModelCache(capacity=1)
    return cache, cache.get("shapes")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        message = f"Chromium is not installed at {CHROMIUM}; install it with `apt-get install -y chromium`."
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def app_url(served):
    """The address of the served app, for the browser tests."""
    return served[1]


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, to run inside a page (`npm ci` at the repository root installs it)."""
    if not AXE.is_file():
        message = f"axe-core is not installed at {AXE}; run `npm ci` at the repository root."
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def session_for(cache: ModelCache, path: Path, variant: str) -> Session:
    """What the Explore tab remembers after analysing `path` with `variant`."""
    analysis = analyze(str(path), variant, cache=cache)
    return Session(str(path), image_key(path), variant, analysis.labels, analysis.target.index)


@pytest.fixture(scope="module")
def star_session(app_cache) -> Session:
    """The Explore tab's session after analysing the shapes star with the shapes model."""
    return session_for(app_cache, STAR, "shapes")


@pytest.fixture(scope="module")
def photo_session(app_cache) -> Session:
    """The Explore tab's session after analysing the cat photo with s12 (seeded random weights)."""
    return session_for(app_cache, PHOTO, "s12")
