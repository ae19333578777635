"""How long each explanation takes with its default settings on PoolFormer-S12 at 224 px, against
its floor, and what a class asking for the same explanation at once costs, measured in one run.

Prints:
- the floors: one image's share of a batched forward, and of a batched forward + backward to the
  input (batches of 8, every core), measured now;
- each captum method (Integrated Gradients, SmoothGrad, Occlusion) as the server runs it alone
  (holding the cores' lease: every core) and on one thread (as every request ran before), next
  to its floor (its passes x the per-image cost) and the ratio;
- served through gradio_client: one `/explain` (ig, smoothgrad, occlusion) alone; then 8 clients
  asking for the same explanation of the same photo at once, each decoding every picture it
  gets back: failures, median and last answer, and the classroom ratio (last of 8 / one alone).
  With `--unshared`, the same 8 clients with 8 different photos (nothing to share) for comparison;
  with `--others`, also deletion/insertion, ROAD, the sanity check and a two-variant comparison.

    python -m benchmarks.bench_explain               # run from the repository root
    python -m benchmarks.bench_explain --unshared --others

Architectures are the real ones with seeded random weights: the cost does not depend on the values.
On a machine shared with other work, compare the ratios, which are taken within one run.
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import torch
from gradio_client import Client, handle_file
from PIL import Image

from poolformer_demo import ModelCache, analyze
from poolformer_demo.attributions import DEFAULT_SETTINGS, PIXEL_METHODS, occlusion_geometry
from poolformer_demo.blocks import model_inputs
from poolformer_demo.comparison import compare
from poolformer_demo.control import cores
from poolformer_demo.faithfulness import FaithfulnessSettings, evaluate_faithfulness, road_scores
from poolformer_demo.sanity import cascading_randomization
from poolformer_demo.testing import build_checkpoint, interleaved_medians, torch_threads
from poolformer_demo.ui import build_demo, launch_kwargs, share_cores

PHOTO = Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.jpg"
PIXEL = ["ig", "smoothgrad", "occlusion"]
BATCH = 8
CLIENTS = 8


def per_image_costs(model, x: torch.Tensor, repeats: int) -> dict[str, float]:
    """Seconds per image of a batched forward, and of a forward + backward to the input."""
    batch = x.expand(BATCH, -1, -1, -1).contiguous()

    def forward():
        with torch.no_grad():
            model(pixel_values=batch)

    def forward_backward():
        inputs = batch.clone().requires_grad_(True)
        torch.autograd.grad(model(pixel_values=inputs).logits[:, 0].sum(), inputs)

    medians = interleaved_medians({"forward": forward, "forward+backward": forward_backward}, repeats)
    return {name: wall / BATCH for name, (wall, _) in medians.items()}


def passes(name: str, x: torch.Tensor) -> tuple[int, str]:
    """(model passes of one image, which kind) that a method's default settings make."""
    settings = DEFAULT_SETTINGS[name]
    if name == "ig":
        return settings.n_steps, "forward+backward"  # plus two single forwards for the delta
    if name == "smoothgrad":
        return settings.nt_samples, "forward+backward"
    window, stride = occlusion_geometry(settings, tuple(x.shape[-2:]))
    return math.prod(math.ceil((side - window) / stride) + 1 for side in x.shape[-2:]) + 1, "forward"


def pictures_decoded(value) -> int:
    """Decode every inlined picture in a JSON answer (as a browser would); how many there were."""
    if isinstance(value, dict):
        return sum(pictures_decoded(v) for v in value.values())
    if isinstance(value, list):
        return sum(pictures_decoded(v) for v in value)
    if isinstance(value, str) and value.startswith("data:image/"):
        Image.open(io.BytesIO(base64.b64decode(value.split(",", 1)[1]))).load()
        return 1
    return 0


def explain_request(url: str, photo: Path, downloads: Path) -> tuple[float, int]:
    """One /explain of the three pixel methods: (seconds, pictures decoded)."""
    client = Client(url, verbose=False, download_files=str(downloads))
    started = time.perf_counter()
    answer = client.predict(handle_file(str(photo)), "s12", "", PIXEL, 4, False, False, api_name="/explain")
    seconds = time.perf_counter() - started
    return seconds, pictures_decoded(answer)


def clients_at_once(url: str, photos: list[Path], downloads: Path) -> tuple[list[float], int, list[int]]:
    """Every photo asked for by a client of its own, all at once: (seconds each, failures, pictures each)."""
    times, pictures, failures = [], [], []
    start = threading.Barrier(len(photos))

    def run(photo):
        start.wait()
        try:
            seconds, count = explain_request(url, photo, downloads)
            times.append(seconds)
            pictures.append(count)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(photo,)) for photo in photos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, len(failures), pictures


def serve(cache: ModelCache) -> tuple:
    demo = build_demo(cache=cache, shapes_available=False)
    _, url, _ = demo.launch(**launch_kwargs(prevent_thread_lock=True, server_port=None))
    return demo, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each method (each takes seconds)")
    parser.add_argument("--unshared", action="store_true", help="also 8 clients with 8 different photos")
    parser.add_argument("--others", action="store_true", help="also faithfulness, ROAD, sanity and compare")
    args = parser.parse_args()
    share_cores()  # as app.py serves

    image = Image.open(PHOTO).convert("RGB")
    with tempfile.TemporaryDirectory() as weights, tempfile.TemporaryDirectory() as scratch:
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        scratch = Path(scratch)
        for name in ("s12", "m36") if args.others else ("s12",):
            build_checkpoint(name, Path(weights) / f"poolformer_{name}")
        cache = ModelCache(capacity=2)
        loaded = cache.get("s12")
        x = model_inputs(loaded, image)
        target = 0
        analyze(image, "s12", target=target, cache=cache)  # warm-up
        print(
            f"torch {torch.__version__}, {cores.cores} cores, load average {os.getloadavg()[0]:.1f} "
            f"(a shared machine: compare the ratios), s12 at 224 px, median of {args.repeats}"
        )
        with cores.lease():
            cost = per_image_costs(loaded.model, x, repeats=5)
        with torch_threads(1):
            cost_one = per_image_costs(loaded.model, x, repeats=5)
        print(f"\nfloors (batches of {BATCH}), per image:     every core   one thread")
        for name, seconds in cost.items():
            print(f"  {name:22} {seconds * 1000:16.1f} ms {cost_one[name] * 1000:9.1f} ms")

        def alone(method, settings):
            with cores.lease():
                method(loaded, x, target, settings)

        def one_thread(method, settings):
            with torch_threads(1):
                method(loaded, x, target, settings)

        jobs = {}
        for name in PIXEL:
            method, settings = PIXEL_METHODS[name], DEFAULT_SETTINGS[name]
            jobs[(name, "alone")] = lambda m=method, s=settings: alone(m, s)
            jobs[(name, "one thread")] = lambda m=method, s=settings: one_thread(m, s)
        measured = interleaved_medians(jobs, args.repeats)
        print("\nalone: as the server runs one request now (every core); one thread: as every request ran before")
        print(
            f"{'method':18} {'passes':>22} {'floor':>8} {'alone':>8} {'/floor':>7} {'1 thread':>9} {'/its floor':>10}"
        )
        floor_total = 0.0
        for name in PIXEL:
            count, kind = passes(name, x)
            floor, floor_one = count * cost[kind], count * cost_one[kind]
            floor_total += floor
            now, before = measured[(name, "alone")][0], measured[(name, "one thread")][0]
            print(
                f"  {name:12} {count:4} x {kind:>16} {floor:7.2f}s {now:7.2f}s {now / floor:6.2f}x "
                f"{before:8.2f}s {before / floor_one:9.2f}x  (alone / 1 thread {now / before:.2f}x)"
            )

        # A fresh app (empty stores) for each measurement; s12 loaded first, as on a running server.
        demo, url = serve(ModelCache(capacity=2))
        try:
            Client(url, verbose=False).predict(handle_file(str(PHOTO)), "s12", api_name="/analyze")
            one, pictures = explain_request(url, PHOTO, scratch)
        finally:
            demo.close()
        demo, url = serve(ModelCache(capacity=2))
        try:
            Client(url, verbose=False).predict(handle_file(str(PHOTO)), "s12", api_name="/analyze")
            times, failed, counts = clients_at_once(url, [PHOTO] * CLIENTS, scratch)
        finally:
            demo.close()
        last = max(times, default=float("nan"))
        median = statistics.median(times) if times else float("nan")
        print(f"\nserved /explain ({', '.join(PIXEL)}), clients decode every picture:")
        print(f"  one request alone    {one:7.2f}s ({pictures} pictures), / sum of floors {one / floor_total:5.2f}x")
        print(f"  {CLIENTS} clients, same photo      last {last:7.2f}s, median {median:7.2f}s, {failed} failed")
        print(f"    pictures decoded per answer: {sorted(set(counts))}")
        print(f"  classroom ratio (last of {CLIENTS} / one alone)  {last / one:5.2f}x  (target <= 1.3x)")
        if args.unshared:
            photos = []
            for index in range(CLIENTS):
                # A different photo each: the same picture with one pixel changed has another content hash.
                copy = image.copy()
                copy.putpixel((index, 0), (index, index, index))
                photos.append(scratch / f"photo-{index}.png")
                copy.save(photos[-1])
            demo, url = serve(ModelCache(capacity=2))
            try:
                Client(url, verbose=False).predict(handle_file(str(PHOTO)), "s12", api_name="/analyze")
                times, failed, _ = clients_at_once(url, photos, scratch)
            finally:
                demo.close()
            print(
                f"  {CLIENTS} clients, {CLIENTS} photos          last {max(times):7.2f}s, median "
                f"{statistics.median(times):7.2f}s, {failed} failed: {max(times) / one:5.2f}x one alone"
            )
        if args.others:
            others(image, cache, loaded, x, target, args.repeats)


def others(image, cache, loaded, x, target, repeats) -> None:
    maps = {"gradcam": analyze(image, "s12", target=target, cache=cache).stages[-1].cam}
    maps.update({name: PIXEL_METHODS[name](loaded, x, target, DEFAULT_SETTINGS[name]).map for name in PIXEL})
    cache.get("m36")
    faithfulness = FaithfulnessSettings()
    jobs = {
        "deletion + insertion": lambda: evaluate_faithfulness(loaded.model, x, target, maps, faithfulness),
        "ROAD (one map)": lambda: road_scores(loaded.model, x, target, {"gradcam": maps["gradcam"]}),
        "sanity check, Grad-CAM": lambda: cascading_randomization(image, "s12", target=target, cache=cache),
        "compare s12, m36": lambda: compare(image, "s12,m36", cache=cache),
    }
    notes = {
        "deletion + insertion": f"{len(maps)} maps + {faithfulness.random_orders} random orders, "
        f"{faithfulness.steps} steps, batch {faithfulness.batch_size}",
        "ROAD (one map)": f"percentiles {faithfulness.road_percentiles}",
        "sanity check, Grad-CAM": "17 steps (head, 12 blocks, 4 embeddings)",
        "compare s12, m36": "both models already loaded",
    }
    print(f"\n{'':24} {'wall':>8} {'CPU':>8}")
    with cores.lease():
        for name, (wall, cpu) in interleaved_medians(jobs, repeats).items():
            print(f"  {name:22} {wall:7.2f}s {cpu:7.2f}s  {notes[name]}")


if __name__ == "__main__":
    main()
