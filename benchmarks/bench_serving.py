"""Where a served request's time goes, and how many requests the app serves, against floors and a
naive app, measured in one run on one machine.

Prints:
- the in-process analysis (`analyze` on s12);
- the `/analyze` round trip through gradio_client (warm, loopback, downloads on), for the same
  photo again (its feature maps are reused) and for a new image each time;
- two model-free floors: a label and two galleries of four constant pictures as files, and the
  same eight pictures inlined as PNG data URIs in one gr.HTML;
- click on a photo example to all pictures loaded, in headless Chromium (median of several clicks);
- throughput with 8 and 30 clients that download every output file, all on the same photo, for
  this app and for a naive 30-line app (one pass, a label, two galleries of stage-size maps);
- the ratios against the targets: throughput >= 2x the naive app's with zero failures, and an
  `/analyze` round trip <= 1.25x (inline floor + in-process analysis).

    python -m benchmarks.bench_serving               # from the repository root
    python -m benchmarks.bench_serving --profile     # also the top of a profile of one request

Architectures are the real ones with seeded random weights: the cost does not depend on the values.
Chromium comes from Debian (`apt-get install chromium`); without it that row is skipped.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np
import torch
import torch.nn.functional as F
from gradio_client import Client, handle_file
from PIL import Image

from poolformer_demo import ModelCache, analyze, render
from poolformer_demo.testing import build_checkpoint
from poolformer_demo.ui import build_demo, launch_kwargs, share_cores

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "examples" / "chelsea.jpg"
CHROMIUM = Path("/usr/bin/chromium")
STAGE_SIZES = (56, 28, 14, 7)


def naive_app(cache: ModelCache) -> gr.Blocks:
    """What a first Gradio demo of this model looks like: one pass, a label, two galleries."""
    loaded = cache.get("s12")
    labels = loaded.model.config.id2label

    def predict(path):
        pixel_values = loaded.processor(images=Image.open(path).convert("RGB"), return_tensors="pt")["pixel_values"]
        pixel_values.requires_grad_(True)
        with torch.enable_grad():
            out = loaded.model(pixel_values=pixel_values, output_hidden_states=True)
            top = int(out.logits[0].argmax())
            grads = torch.autograd.grad(out.logits[0, top], out.hidden_states)
        probs = out.logits[0].detach().softmax(-1)
        label = {labels[int(i)]: float(probs[i]) for i in probs.topk(5).indices}

        def to_image(a):
            return ((a - a.min()) / (a.max() - a.min() + 1e-8) * 255).numpy().astype(np.uint8)

        hidden = [h[0].detach() for h in out.hidden_states]
        maps = [to_image(h.mean(0)) for h in hidden]
        cams = [to_image(F.relu((g[0].mean((1, 2), keepdim=True) * h).sum(0))) for h, g in zip(hidden, grads)]
        return label, maps, cams

    with gr.Blocks(analytics_enabled=False) as demo:
        image = gr.Image(type="filepath")
        label, features, heatmaps = gr.Label(), gr.Gallery(), gr.Gallery()
        gr.Button().click(predict, image, [label, features, heatmaps], api_name="predict")
    return demo.queue(default_concurrency_limit=2)


def floor_apps() -> dict[str, gr.Blocks]:
    """Model-free apps returning the same eight stage-size pictures, as files and inlined."""
    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 256, (s, s, 3), dtype=np.uint8) for s in STAGE_SIZES for _ in range(2)]
    label = {f"class {i}": 1.0 / (i + 2) for i in range(5)}
    inlined = "".join(f'<img src="{render.data_uri(p)}">' for p in pictures)

    with gr.Blocks(analytics_enabled=False) as files:
        image = gr.Image(type="filepath")
        outputs = [gr.Label(), gr.Gallery(), gr.Gallery()]
        gr.Button().click(lambda _: (label, pictures[::2], pictures[1::2]), image, outputs, api_name="predict")
    with gr.Blocks(analytics_enabled=False) as inline:
        image = gr.Image(type="filepath")
        outputs = [gr.Label(), gr.HTML()]
        gr.Button().click(lambda _: (label, inlined), image, outputs, api_name="predict")
    return {"floor, galleries of files": files.queue(), "floor, pictures inlined": inline.queue()}


def launch(demo: gr.Blocks) -> str:
    _, url, _ = demo.launch(**launch_kwargs(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True))
    return url


def round_trip(url: str, api_name: str, arguments: tuple, repeats: int, downloads: Path) -> float:
    client = Client(url, verbose=False, download_files=str(downloads))
    upload = handle_file(str(PHOTO))
    client.predict(upload, *arguments, api_name=api_name)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        client.predict(upload, *arguments, api_name=api_name)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def round_trip_new_images(url: str, repeats: int, folder: Path) -> float:
    """The `/analyze` round trip when every request brings an image the server has not seen."""
    client = Client(url, verbose=False, download_files=str(folder))
    photo = Image.open(PHOTO).convert("RGB")
    times = []
    for i in range(repeats + 1):
        path = folder / f"new-{i}.png"
        photo.rotate(i + 1).save(path)
        start = time.perf_counter()
        client.predict(handle_file(str(path)), "s12", "", api_name="/analyze")
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def throughput(url: str, api_name: str, arguments: tuple, clients: int, each: int, downloads: Path):
    """Requests per second and failures with `clients` downloading clients, all on the same photo."""
    failures: list[str] = []
    done = []

    def run(index: int) -> None:
        client = Client(url, verbose=False, download_files=str(downloads / str(index)))
        upload = handle_file(str(PHOTO))
        for _ in range(each):
            try:
                client.predict(upload, *arguments, api_name=api_name)
                done.append(1)
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                failures.append(str(exc)[:120])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / (time.perf_counter() - start), len(failures), clients * each


def click_to_loaded(url: str, clicks: int) -> float | None:
    """Median seconds from a click on a photo example to every result picture decoded, in Chromium.

    Two examples take turns, so every click brings a new result.
    """
    if not CHROMIUM.is_file():
        return None
    from playwright.sync_api import sync_playwright

    fresh = (
        "(() => { const r = document.querySelector('#explore-results .pf-results');"
        " const imgs = [...document.querySelectorAll('#explore-results img')];"
        " return r && !r.dataset.stale && imgs.length >= 17 && imgs.every(i => i.complete && i.naturalWidth > 0); })()"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("#photo-examples img")
        times = []
        for click in range(clicks + 1):
            page.evaluate("document.querySelector('#explore-results .pf-results').dataset.stale = '1'")
            example = ("chelsea.jpg", "coffee.jpg")[click % 2]
            start = time.perf_counter()
            page.locator(f"#photo-examples img[src$='{example}']").first.click()
            page.wait_for_function(fresh, timeout=60_000, polling=5)
            times.append(time.perf_counter() - start)
        browser.close()
    return statistics.median(times[1:])


def profile_one_request(demo_cache: ModelCache) -> str:
    from poolformer_demo.ui.kit.runs import app_runner
    from poolformer_demo.ui.tabs.explore.page import ExploreTab

    runner = app_runner(1)
    ExploreTab(demo_cache, runner, shapes_available=False).analyze_image(str(PHOTO), "s12")  # warm the model
    # A tab of its own: a first request for this image, with nothing stored to reuse.
    tab = ExploreTab(demo_cache, runner, shapes_available=False)
    profiler = cProfile.Profile()
    profiler.enable()
    tab.analyze_image(str(PHOTO), "s12")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(18)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    share_cores()  # as app.py serves: each of the two concurrent analyses gets its share of the cores
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as weights, tempfile.TemporaryDirectory() as downloads:
        build_checkpoint("s12", Path(weights) / "poolformer_s12")
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        downloads = Path(downloads)
        cache = ModelCache(capacity=2)
        cache.get("s12")
        photo = Image.open(PHOTO).convert("RGB")
        analyze(photo, "s12", cache=cache)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            analyze(photo, "s12", cache=cache)
            times.append(time.perf_counter() - start)
        rows["in-process analysis"] = statistics.median(times)

        app = build_demo(cache=cache, shapes_available=False)
        app_url = launch(app)
        naive = naive_app(cache)
        naive_url = launch(naive)
        floors = floor_apps()
        floor_urls = {name: launch(demo) for name, demo in floors.items()}

        rows["/analyze round trip"] = round_trip(app_url, "/analyze", ("s12", ""), args.repeats, downloads)
        rows["/analyze round trip, new images"] = round_trip_new_images(app_url, args.repeats, downloads)
        for name, url in floor_urls.items():
            rows[name] = round_trip(url, "/predict", (), args.repeats, downloads)
        rows["naive app round trip"] = round_trip(naive_url, "/predict", (), args.repeats, downloads)
        loaded = click_to_loaded(app_url, clicks=7)

        load = {}
        for clients, each in ((8, 5), (30, 2)):
            load[("this app", clients)] = throughput(app_url, "/analyze", ("s12", ""), clients, each, downloads)
            load[("naive app", clients)] = throughput(naive_url, "/predict", (), clients, each, downloads)
        for demo in (app, naive, *floors.values()):
            demo.close()

        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, s12 with random weights, medians\n")
        for name, seconds in rows.items():
            print(f"  {name:34} {seconds * 1000:8.1f} ms")
        if loaded is not None:
            print(f"  {'click to all pictures (Chromium)':34} {loaded * 1000:8.1f} ms")
        print()
        for (name, clients), (rate, failed, total) in load.items():
            print(f"  {name:10} {clients:2} downloading clients: {rate:6.2f} req/s, {failed} of {total} failed")
        print()
        floor = rows["floor, pictures inlined"] + rows["in-process analysis"]
        for label, name in (("same photo", "/analyze round trip"), ("new images", "/analyze round trip, new images")):
            ratio = rows[name] / floor
            print(f"  /analyze ({label}) / (inline floor + analysis)   {ratio:5.2f}x  (target <= 1.25x)")
        for clients in (8, 30):
            gain = load[("this app", clients)][0] / load[("naive app", clients)][0]
            print(f"  throughput / naive app, {clients:2} clients     {gain:5.2f}x  (target >= 2x, zero failures)")
        if args.profile:
            print("\nOne /analyze request, in process, first time for this image:\n")
            print(profile_one_request(cache))


if __name__ == "__main__":
    main()
