"""The served app under concurrent clients: nothing fails, results stay matched to their
requests, each model loads once and the queue serves requests in arrival order. Latency and
throughput are printed as figures, not asserted: they depend on the machine."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from serving import serving

from poolformer_demo import analyze
from poolformer_demo.ui import build_demo
from poolformer_demo.ui.present import ExploreView

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "examples" / "astronaut.jpg"
CLIENTS, REQUESTS = 8, 10
TIME_LIMIT_S = 600
# Where "Grad-CAM for **…** · class N · …" stands among the /analyze outputs.
TARGET_INFO = ExploreView.names().index("target_info")


@pytest.fixture(scope="module")
def served(app_cache):
    started = []

    def recording_analyze(image, variant, target=None, **kwargs):
        started.append((variant, target))
        return analyze(image, variant, target=target, **kwargs)

    with serving(build_demo(cache=app_cache, analyze=recording_analyze)) as (_, url):
        yield url, app_cache, started


def _run_client(url: str, requests: list[tuple[str, int]], latencies: list, failures: list, deadline: float):
    client = Client(url, verbose=False, download_files=False)
    upload = handle_file(str(PHOTO))
    for variant, target in requests:
        if time.monotonic() > deadline:
            failures.append("time limit reached")
            return
        start = time.perf_counter()
        try:
            result = client.predict(upload, variant, str(target), api_name="/analyze")
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            failures.append(f"{variant}/{target}: {exc}")
            continue
        latencies.append(time.perf_counter() - start)
        label, features, overlays = result[0], result[1], result[2]
        if len(label["confidences"]) != 5 or len(features) != 4 or len(overlays) != 4:
            failures.append(f"{variant}/{target}: malformed result")
        elif f"· class {target} ·" not in result[TARGET_INFO]:
            failures.append(f"{variant}/{target}: answered for another request: {result[TARGET_INFO]!r}")


@pytest.mark.slow
def test_concurrent_clients_and_a_variant_switcher(served):
    url, cache, _ = served
    deadline = time.monotonic() + TIME_LIMIT_S
    latencies: list[float] = []
    failures: list[str] = []
    # Every request explains a different class, so a result delivered to the wrong caller shows.
    plans = [[("s12", 10 * c + i) for i in range(REQUESTS)] for c in range(CLIENTS)]
    plans.append([("s12" if i % 2 else "shapes", i % 6) for i in range(REQUESTS)])
    threads = [threading.Thread(target=_run_client, args=(url, plan, latencies, failures, deadline)) for plan in plans]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT_S)
    elapsed = time.perf_counter() - started

    total = sum(len(p) for p in plans)
    ordered = sorted(latencies) or [float("nan")]
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print(
        f"\nload: {len(latencies)}/{total} requests ok from {len(plans)} clients in {elapsed:.1f} s; "
        f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, throughput {len(latencies) / elapsed:.2f} req/s"
    )
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert len(latencies) == total
    assert cache.load_counts == {"s12": 1, "shapes": 1}


@pytest.mark.slow
def test_the_queue_serves_requests_in_arrival_order(served):
    url, _, started = served
    client = Client(url, verbose=False, download_files=False)
    upload = handle_file(str(PHOTO))
    started.clear()
    jobs = []
    for target in range(8):
        jobs.append(client.submit(upload, "s12", str(100 + target), api_name="/analyze"))
        # Wait until the server has this job before sending the next, so arrival order is known.
        deadline = time.monotonic() + 60
        while jobs[-1].status().code.name in ("STARTING", "JOINING_QUEUE") and time.monotonic() < deadline:
            time.sleep(0.01)
    results = [job.result(timeout=300) for job in jobs]
    assert [f"· class {100 + t} ·" in r[TARGET_INFO] for t, r in enumerate(results)] == [True] * 8
    # Two workers run at once, so two neighbours may enter the handler in either order; beyond
    # that, every request starts in the order it arrived.
    order = [int(target) - 100 for _, target in started]
    assert sorted(order) == list(range(8))
    assert all(abs(position - arrival) <= 1 for position, arrival in enumerate(order)), order
