"""`python app.py` on a machine that cannot reach the hub: the page comes up quickly and is
usable, with the bundled demo model as the default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from serving import free_port

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD_S = 90


@pytest.fixture
def offline_app(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "POOLFORMER_", "GRADIO_"))}
    # An endpoint on the loopback where nothing listens: the hub is unreachable, as behind a firewall.
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"), GRADIO_SERVER_PORT=str(port))
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while time.monotonic() - started < HANG_GUARD_S:
            if process.poll() is not None:
                pytest.fail(f"app.py exited with {process.returncode}:\n{process.stdout.read()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"app.py did not serve a page within {HANG_GUARD_S} s")
        yield url, time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_offline_start_serves_a_usable_page_with_the_demo_model(offline_app):
    from gradio_client import Client, handle_file

    url, seconds = offline_app
    print(f"\noffline start: page served {seconds:.1f} s after `python app.py`")
    config = httpx.get(url + "config", timeout=10).json()
    variant_menu = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "variant")
    assert variant_menu["props"]["value"] == "shapes"

    client = Client(url, verbose=False, download_files=False)
    example = ROOT / "assets" / "examples" / "shapes_star.png"
    result = client.predict(handle_file(str(example)), "shapes", api_name="/analyze")
    assert result[0]["label"] == "star"
