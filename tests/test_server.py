"""The served app under bad input, path probing and temporary-file growth (reliability issue)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from image_cases import CASES
from paths import COFFEE, ROOT
from PIL import Image
from serving import serving

from poolformer_demo import ModelCache
from poolformer_demo.testing import wait_until
from poolformer_demo.ui import app as ui_app


def _assert_user_message(message: str, words: str) -> None:
    assert words in message
    assert "Traceback" not in message and "/tmp" not in message and "site-packages" not in message
    assert len(message) < 300


@pytest.mark.parametrize("name, filename, data, expectation", CASES, ids=[c[0] for c in CASES])
def test_bad_uploads_through_the_api(client, tmp_path, name, filename, data, expectation):
    upload = tmp_path / filename
    upload.write_bytes(data)
    kind, detail = expectation
    if kind == "error":
        with pytest.raises(AppError) as info:
            client.predict(handle_file(str(upload)), "s12", api_name="/analyze")
        _assert_user_message(str(info.value), detail)
    else:
        label = client.predict(handle_file(str(upload)), "s12", api_name="/analyze")[0]
        assert len(label["confidences"]) == 5
    # Whatever happened, the next request is served.
    assert len(client.predict(handle_file(str(COFFEE)), "s12", api_name="/analyze")[0]["confidences"]) == 5


@pytest.mark.parametrize(
    "image, variant, target, words",
    [
        (None, "s12", "", "No image given"),
        (COFFEE, "s99", "", "Unknown variant 's99'"),
        (COFFEE, "s12", "1000", "Class index 1000 is out of range"),
        (COFFEE, "s12", "tabbby cat", "Did you mean: tabby cat"),
    ],
)
def test_bad_requests_through_the_api(client, image, variant, target, words):
    with pytest.raises(AppError) as info:
        client.predict(handle_file(str(image)) if image else None, variant, target, api_name="/analyze")
    _assert_user_message(str(info.value), words)


@pytest.mark.parametrize("path", ["/etc/passwd", str(ROOT / "app.py"), str(ROOT / "poolformer_demo" / "weights.py")])
def test_files_outside_the_upload_folder_are_not_served(served, path):
    for url in (f"{served[1]}gradio_api/file={path}", f"{served[1]}file={path}"):
        response = httpx.get(url, timeout=30)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert (
            "root:" not in response.text and "build_demo" not in response.text and "def load_model" not in response.text
        )


def test_binds_to_the_loopback_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert ui_app.launch_kwargs()["server_name"] == "127.0.0.1"


@pytest.mark.slow
def test_temporary_files_are_swept(weights_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
    # Not an example photo: those stay in Gradio's cache on purpose, so they stay clickable.
    upload = tmp_path / "upload.png"
    Image.open(COFFEE).resize((160, 120)).save(upload)
    demo = ui_app.build_demo(cache=ModelCache(capacity=1))
    assert demo.delete_cache == ui_app.DELETE_CACHE
    # Sweep every second for files older than a second, so the test sees a sweep happen.
    demo.delete_cache = (1, 1)
    with serving(demo) as (_, url):
        client = Client(url, verbose=False, download_files=False)
        for _ in range(2):
            client.predict(handle_file(str(upload)), "s12", api_name="/analyze")
        # Example images are kept on purpose: they must stay clickable.
        kept = {Path(p) for block in demo.blocks.values() for p in getattr(block, "keep_in_cache", ())}
        written = {Path(p) for files in demo.temp_file_sets for p in files} - kept
        # Content-addressed: the upload, stored once however often sent; results are inlined, not files.
        assert len(written) == 1
        assert wait_until(lambda: not any(p.exists() for p in written), 20, poll_s=0.1)


@pytest.mark.slow
def test_a_stored_explore_answer_returns_while_long_explanations_fill_their_lane(app_cache, tmp_path):
    # One slot per lane: with a single queue the stored answer would wait for both explanations.
    with serving(ui_app.build_demo(cache=app_cache, concurrency=1)) as (_, url):
        client = Client(url, verbose=False, download_files=str(tmp_path))
        photo = handle_file(str(COFFEE))
        first = client.predict(photo, "s12", api_name="/analyze")[0]
        long_runs = [client.submit(photo, "s12", "", ["ig"], 4, False, False, api_name="/explain") for _ in range(2)]
        started = wait_until(lambda: any(run.status().code.name == "PROCESSING" for run in long_runs), 60)
        assert started, "the explanations never started"
        again = client.predict(photo, "s12", api_name="/analyze")[0]
        assert again == first
        assert not all(run.done() for run in long_runs)
        for run in long_runs:
            assert run.result(timeout=300)["target"] == long_runs[0].result(timeout=300)["target"]
