"""`python app.py` on a machine that cannot reach the hub: the page comes up quickly and is
usable, with the bundled shapes model as the default."""

from __future__ import annotations

import httpx
import pytest
from paths import STAR
from serving import app_process


@pytest.fixture
def offline_app(tmp_path):
    # An endpoint on the loopback where nothing listens: the hub is unreachable, as behind a firewall.
    with app_process({"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf")}) as (_, url, seconds):
        yield url, seconds


@pytest.mark.slow
def test_offline_start_serves_a_usable_page_with_the_shapes_model(offline_app):
    from gradio_client import Client, handle_file

    url, seconds = offline_app
    print(f"\noffline start: page served {seconds:.1f} s after `python app.py`")
    config = httpx.get(url + "config", timeout=10).json()
    variant_menu = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "variant")
    assert variant_menu["props"]["value"] == "shapes"

    client = Client(url, verbose=False, download_files=False)
    example = STAR
    result = client.predict(handle_file(str(example)), "shapes", api_name="/analyze")
    assert result[0]["label"] == "star"


@pytest.mark.slow
def test_the_app_imports_no_heavy_library_that_the_bare_imports_do_not():
    """captum, matplotlib, scipy and grad-cam load with the first computation that needs them."""
    import subprocess
    import sys

    heavy = ["captum", "matplotlib", "scipy", "pytorch_grad_cam"]
    probe = "import sys; {}; print(' '.join(m for m in {!r} if m in sys.modules))"
    bare = "import torch, gradio, transformers.models.poolformer.modeling_poolformer"

    def loaded(imports: str) -> set[str]:
        run = subprocess.run([sys.executable, "-c", probe.format(imports, heavy)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return set(run.stdout.split())

    assert loaded("import poolformer_demo.ui.app") <= loaded(bare)
