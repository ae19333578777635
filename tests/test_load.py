"""The served app under concurrent clients: nothing fails, results stay matched to their
requests, each model loads once and the queue serves requests in arrival order. Clients keep
gradio_client's default of downloading every output file, as a browser fetches every picture.
Latency and throughput are printed as figures, not asserted: they depend on the machine."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from paths import ASTRONAUT
from serving import serving

from poolformer_demo import analyze
from poolformer_demo.testing import wait_until
from poolformer_demo.ui import build_demo

CLIENTS, REQUESTS = 8, 10
TIME_LIMIT_S = 600


@pytest.fixture(scope="module")
def recording_app(app_cache):
    """The app served with an analysis that records (variant, target) as each one starts:
    (base URL, model cache, the records)."""
    started = []

    def recording_analyze(image, variant, target=None, **kwargs):
        started.append((variant, target))
        return analyze(image, variant, target=target, **kwargs)

    with serving(build_demo(cache=app_cache, analyze=recording_analyze)) as (_, url):
        yield url, app_cache, started


def _run_client(url: str, requests: list, latencies: list, failures: list, deadline: float, downloads: Path):
    # download_files as gradio_client does by default: every output file is fetched.
    client = Client(url, verbose=False, download_files=str(downloads))
    upload = handle_file(str(ASTRONAUT))
    for variant, target in requests:
        if time.monotonic() > deadline:
            failures.append("time limit reached")
            return
        start = time.perf_counter()
        try:
            label, result = client.predict(upload, variant, "" if target is None else str(target), api_name="/analyze")
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            failures.append(f"{variant}/{target}: {exc}")
            continue
        latencies.append(time.perf_counter() - start)
        problem = _mismatch(label, result, variant, target)
        if problem:
            failures.append(f"{variant}/{target}: {problem}")


def _mismatch(label: dict, result: dict, variant: str, target: int | None) -> str:
    """What is wrong with a result for (variant, target), or "" when it answers that request."""
    if len(label["confidences"]) != 5 or len(result["stages"]) != 4:
        return "malformed result"
    if result["variant"] != variant:
        return f"answered with {result['variant']}"
    wanted = label["confidences"][0]["label"] if target is None else target
    got = result["target"]["label"] if target is None else result["target"]["index"]
    if got != wanted:
        return f"answered for another request: {result['target']}"
    for stage in result["stages"]:
        for uri in (stage["gradcam_picture"], *stage["feature_pictures"].values()):
            if not uri.startswith("data:image/png;base64,") or len(uri) < 60:
                return f"a broken picture in stage {stage['index']}"
    return ""


def _run_clients(url: str, plans: list, downloads: Path) -> tuple[list, list, float]:
    deadline = time.monotonic() + TIME_LIMIT_S
    latencies: list[float] = []
    failures: list[str] = []
    threads = [
        threading.Thread(target=_run_client, args=(url, plan, latencies, failures, deadline, downloads / str(i)))
        for i, plan in enumerate(plans)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT_S)
    assert not any(t.is_alive() for t in threads)
    return latencies, failures, time.perf_counter() - started


def _report(name: str, latencies: list, total: int, clients: int, elapsed: float) -> None:
    ordered = sorted(latencies) or [float("nan")]
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print(
        f"\n{name}: {len(latencies)}/{total} requests ok from {clients} clients in {elapsed:.1f} s; "
        f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, throughput {len(latencies) / elapsed:.2f} req/s"
    )


@pytest.mark.slow
def test_concurrent_clients_and_a_variant_switcher(recording_app, tmp_path):
    url, cache, _ = recording_app
    # Every request explains a different class, so a result delivered to the wrong caller shows.
    plans = [[("s12", 10 * c + i) for i in range(REQUESTS)] for c in range(CLIENTS)]
    plans.append([("s12" if i % 2 else "shapes", i % 6) for i in range(REQUESTS)])
    latencies, failures, elapsed = _run_clients(url, plans, tmp_path)
    total = sum(len(p) for p in plans)
    _report("load, different classes", latencies, total, len(plans), elapsed)
    assert failures == []
    assert len(latencies) == total
    assert cache.load_counts == {"s12": 1, "shapes": 1}


@pytest.mark.slow
def test_a_class_clicking_the_same_example_at_once_gets_whole_answers(recording_app, tmp_path):
    url, _, _ = recording_app
    # The classroom: everyone sends the same photo to the same model at the same moment, while
    # others explain other classes or use the shapes model.
    plans = [[("s12", None)] * 5 for _ in range(CLIENTS)]
    plans += [[("s12", 281 + i) for i in range(5)], [("shapes", i) for i in range(5)]]
    latencies, failures, elapsed = _run_clients(url, plans, tmp_path)
    total = sum(len(p) for p in plans)
    _report("load, same image", latencies, total, len(plans), elapsed)
    assert failures == []
    assert len(latencies) == total


@pytest.mark.slow
def test_the_queue_serves_requests_in_arrival_order(recording_app):
    url, _, started = recording_app
    client = Client(url, verbose=False, download_files=False)
    upload = handle_file(str(ASTRONAUT))
    started.clear()
    jobs = []
    for target in range(8):
        jobs.append(client.submit(upload, "s12", str(100 + target), api_name="/analyze"))
        # Wait until the server has this job before sending the next, so arrival order is known.
        assert wait_until(lambda: jobs[-1].status().code.name not in ("STARTING", "JOINING_QUEUE"), 60)
    results = [job.result(timeout=300) for job in jobs]
    assert [result["target"]["index"] for _, result in results] == [100 + t for t in range(8)]
    # Two workers run at once, so two neighbours may enter the handler in either order; beyond
    # that, every request starts in the order it arrived.
    order = [int(target) - 100 for _, target in started]
    assert sorted(order) == list(range(8))
    assert all(abs(position - arrival) <= 1 for position, arrival in enumerate(order)), order
