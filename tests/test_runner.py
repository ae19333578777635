"""The one runner: lanes, sharing and the store, Stop, the core share and the GPU call."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from poolformer_demo.control import CoreShare, check_stop
from poolformer_demo.errors import ComputationCancelled
from poolformer_demo.runner import Lane, LruStore, Runner
from poolformer_demo.testing import wait_until


class Gate:
    """A computation that reports progress and waits until it is let go or told to stop."""

    def __init__(self, answer="the answer"):
        self.answer = answer
        self.go = threading.Event()
        self.calls = 0
        self.checks = 0
        """How many times it has looked at its stop flag."""
        self.running = threading.Event()
        self.stopped = threading.Event()
        self.ended = threading.Event()

    def __call__(self, progress, should_stop):
        self.calls += 1
        self.running.set()
        try:
            while not self.go.is_set():
                self.checks += 1
                if should_stop():
                    self.stopped.set()
                    raise ComputationCancelled("stopped")
                progress(0.5, "working")
                time.sleep(0.01)  # a computation's batch: the gate keeps running until let go
            return self.answer
        finally:
            self.ended.set()


def until(events, wanted: str):
    for kind, value in events:
        if kind == wanted:
            return value
    raise AssertionError(f"no {wanted!r} event")


@pytest.fixture
def runner():
    runner = Runner([Lane("work", 2, 10), Lane("single", 1, 10)], refresh_s=0.01)
    yield runner
    runner.close()


def test_identical_requests_arriving_together_share_one_computation_and_later_ones_the_store(runner):
    store, gate = LruStore(4), Gate()
    first = runner.follow(gate, "work", key="key", store=store)
    until(first, "progress")
    second = runner.follow(gate, "work", key="key", store=store)
    assert next(second) == ("joined", None)
    gate.go.set()
    assert until(first, "done") == until(second, "done") == "the answer"
    assert list(runner.follow(gate, "work", key="key", store=store)) == [("done", "the answer")]
    assert gate.calls == 1 and runner.started == 1


def test_progress_reaches_the_follower_as_reported(runner):
    gate = Gate()
    events = runner.follow(gate, "work")
    assert until(events, "progress") == (0.5, "working")
    gate.go.set()
    assert until(events, "done") == "the answer"


def test_a_request_that_leaves_does_not_stop_the_computation_others_follow(runner):
    gate = Gate()
    first = runner.follow(gate, "work", key="key")
    until(first, "progress")
    second = runner.follow(gate, "work", key="key")
    next(second)
    first.close()  # the first visitor's Stop
    checked = gate.checks
    # It goes on looking at its stop flag, and is never told to stop.
    assert wait_until(lambda: gate.checks >= checked + 5, 5)
    assert not gate.stopped.is_set()
    gate.go.set()
    assert until(second, "done") == "the answer"
    assert gate.calls == 1


def test_a_computation_everybody_left_stops_and_is_not_stored(runner):
    store, gate = LruStore(4), Gate()
    first = runner.follow(gate, "work", key="key", store=store)
    until(first, "progress")
    first.close()
    assert gate.stopped.wait(5)
    assert store.get("key") is None
    again = Gate("computed again")
    again.go.set()
    assert until(runner.follow(again, "work", key="key", store=store), "done") == "computed again"
    assert runner.started == 2


def test_a_failure_reaches_the_caller_and_the_next_request_tries_again(runner):
    store = LruStore(4)

    def broken(progress, should_stop):
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        runner.run(broken, "work", key="key", store=store)
    assert runner.run(lambda progress, should_stop: "fine", "work", key="key", store=store) == "fine"


def test_a_lane_runs_at_most_its_workers_at_once_and_the_rest_wait_queued(runner):
    gates = [Gate(i) for i in range(3)]
    followers = [runner.follow(gate, "work") for gate in gates]
    for events in followers[:2]:
        until(events, "progress")
    assert next(followers[2]) == ("queued", None) and not gates[2].running.is_set()
    gates[0].go.set()
    assert until(followers[0], "done") == 0
    assert until(followers[2], "progress") == (0.5, "working")
    for gate in gates:
        gate.go.set()


def test_after_stop_the_lanes_worker_is_freed_only_when_the_stopped_thread_has_ended(runner):
    release, told, ended = threading.Event(), threading.Event(), threading.Event()

    def slow_to_notice(progress, should_stop):
        # Like a model load: it acts on the stop flag only once the slow part is over.
        progress(0.1, "loading")
        while not release.wait(0.01):
            if should_stop():
                told.set()
        ended.set()
        check_stop(should_stop, "stopped")

    first = runner.follow(slow_to_notice, "single")
    until(first, "progress")
    first.close()
    second = Gate("second")
    second.go.set()
    events = runner.follow(second, "single")
    assert next(events) == ("queued", None)
    # Told to stop, the first run still holds the lane's worker: the second stays queued, tick after tick.
    assert told.wait(5) and not ended.is_set()
    assert [next(events) for _ in range(3)] == [("queued", None)] * 3
    assert not second.running.is_set()
    release.set()
    assert until(events, "done") == "second" and ended.is_set()


def test_a_request_arriving_as_a_run_completes_gets_its_answer_without_starting_it_again(runner):
    store = LruStore(4)
    for round_ in range(20):
        gate = Gate(round_)
        first = runner.follow(gate, "work", key=("key", round_), store=store)
        until(first, "progress")
        gate.go.set()
        # No pause: the second request races the end of the first run.
        assert runner.run(gate, "work", key=("key", round_), store=store) == round_
        assert gate.calls == 1
        first.close()


def test_a_lane_with_a_fixed_thread_count_runs_on_it_and_leaves_the_callers_count_alone():
    if "OpenMP" not in torch.__config__.parallel_info():
        pytest.skip("thread counts are per thread only with torch's OpenMP backend")
    runner = Runner([Lane("lab", 1, 10, threads=1)], refresh_s=0.01)
    before = torch.get_num_threads()
    try:
        seen = runner.run(lambda progress, should_stop: torch.get_num_threads(), "lab")
        later = threading.Thread(target=lambda: results.append(torch.get_num_threads()))
        results: list[int] = []
        later.start()
        later.join()
    finally:
        runner.close()
    assert seen == 1
    assert torch.get_num_threads() == before and results == [before]


def test_every_computation_runs_inside_the_gpu_call(monkeypatch):
    calls = []

    def gpu_task(seconds):
        def wrap(function):
            def marked(*args):
                calls.append(seconds)
                return function(*args)

            return marked

        return wrap

    monkeypatch.setattr("poolformer_demo.runner.gpu_task", gpu_task)
    runner = Runner([Lane("short", 1, 20), Lane("long", 1, 120)], refresh_s=0.01)
    try:
        runner.run(lambda progress, should_stop: None, "short")
        runner.run(lambda progress, should_stop: None, "long")
    finally:
        runner.close()
    assert calls == [20, 120]


def test_a_second_lease_halves_a_running_faithfulness_computations_threads():
    """evaluate_faithfulness takes its share between batches: with eight cores alone it runs on
    eight threads, and once a second computation holds a lease, on four."""
    if "OpenMP" not in torch.__config__.parallel_info():
        pytest.skip("thread counts are per thread only with torch's OpenMP backend")
    import numpy as np

    from poolformer_demo import control
    from poolformer_demo.faithfulness import FaithfulnessSettings, evaluate_faithfulness

    share = CoreShare(cores=8, per_thread=True)
    seen: list[int] = []
    second_started, second_may_end = threading.Event(), threading.Event()

    class Recording(torch.nn.Module):
        """Two classes from the image's mean; records the thread count of every batch."""

        def forward(self, pixel_values):
            seen.append(torch.get_num_threads())
            if len(seen) == 3:
                threading.Thread(target=second_lease).start()
                second_started.wait(5)
            mean = pixel_values.mean(dim=(1, 2, 3))
            return type("Out", (), {"logits": torch.stack([mean, -mean], dim=1)})()

    def second_lease():
        with share.lease():
            second_started.set()
            second_may_end.wait(10)

    pixels = torch.rand(1, 3, 48, 48)
    maps = {"gradcam": np.random.default_rng(0).random((48, 48))}
    settings = FaithfulnessSettings(steps=6, random_orders=2, batch_size=2)
    original = control.cores
    control.cores = share
    try:
        with share.lease():
            evaluate_faithfulness(Recording(), pixels, 0, maps, settings)
    finally:
        control.cores = original
        second_may_end.set()
    assert seen[0] == 8
    assert seen[-1] == 4
    assert wait_until(lambda: share.active == 0, 5)
