import threading
import time
import types

import httpx
import pytest
import torch

from poolformer_demo import ModelCache, WeightsUnavailableError, load_model
from poolformer_demo import weights as weights_module


def test_loads_from_the_weights_folder_with_its_own_processor(use_weights_dir):
    s12 = load_model("s12")
    m36 = load_model("m36")
    assert s12.source == "local folder $POOLFORMER_WEIGHTS_DIR/poolformer_s12/"
    assert s12.processor.crop_pct == pytest.approx(0.9)
    assert m36.processor.crop_pct == pytest.approx(0.95)
    assert not s12.model.training
    assert not any(p.requires_grad for p in s12.model.parameters())


def test_loads_from_the_hugging_face_cache_offline(hub_cache, monkeypatch):
    monkeypatch.delenv("POOLFORMER_WEIGHTS_DIR", raising=False)
    loaded = load_model("s12")
    assert loaded.source == "Hugging Face cache, offline (sail/poolformer_s12)"
    assert loaded.model.config.hidden_sizes == [64, 128, 320, 512]


def test_missing_weights_error_names_variant_sources_and_fix(use_weights_dir):
    with pytest.raises(WeightsUnavailableError) as info:
        load_model("s24")
    # For a visitor: which model, why, where the fix is, and what runs instead; no paths, URLs or variables.
    assert str(info.value) == (
        "The weights of PoolFormer-S24 are not available on this server right now: "
        "they were never downloaded here, and the model hub cannot be reached; whoever runs this server can "
        "add them as the README's “Where the weights come from” says. These models run here: PoolFormer-S12, "
        "PoolFormer-M36, the shapes model (try a shapes example), the pairs model (try a pairs example)."
    )
    # The details, for whoever runs the server.
    message = info.value.details
    assert "S24" in message and "sail/poolformer_s24" in message
    assert "poolformer_s24 (it does not exist)" in message
    assert "POOLFORMER_WEIGHTS_DIR" in message and "go online once" in message


def test_unreachable_hub_is_probed_once_not_per_request(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    # Nothing listens on port 9 of the loopback, so connecting is refused at once.
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))
    probe = weights_module._HubProbe()
    monkeypatch.setattr(weights_module, "hub_probe", probe)
    calls = []
    model_class = weights_module.PoolFormerForImageClassification
    real = model_class.from_pretrained
    monkeypatch.setattr(
        model_class,
        "from_pretrained",
        lambda source, **options: calls.append(options["local_files_only"]) or real(source, **options),
    )
    for _ in range(3):
        with pytest.raises(WeightsUnavailableError, match="the model hub cannot be reached") as info:
            load_model("s36")
        assert "the hub is unreachable" in info.value.details
    assert probe.probe_count == 1
    # Knowing the hub is down, loading only looks in the local cache and never retries the network.
    assert calls == [True, True, True]


def test_cache_loads_each_variant_once_under_concurrent_requests(use_weights_dir):
    loads = []

    def slow_loader(variant):
        loads.append(variant.name)
        time.sleep(0.2)  # a slow load: part of the test, the other requests arrive while it runs
        return load_model(variant)

    cache = ModelCache(capacity=2, loader=slow_loader)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("s12"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["s12"]
    assert len({id(r) for r in results}) == 1


def test_a_variant_that_loads_does_not_hold_up_another_variants_load():
    slow_started, slow_may_finish = threading.Event(), threading.Event()

    def loader(variant):
        if variant.name == "m48":
            slow_started.set()
            slow_may_finish.wait(10)  # a 300 MB download
        return types.SimpleNamespace(model=None, variant=variant)

    cache = ModelCache(capacity=2, loader=loader)
    slow = threading.Thread(target=cache.get, args=("m48",))
    slow.start()
    assert slow_started.wait(5)
    started = time.monotonic()
    assert cache.get("shapes").variant.name == "shapes"
    assert time.monotonic() - started < 5 and slow.is_alive()
    slow_may_finish.set()
    slow.join(5)
    assert cache.cached_variants() == ["shapes", "m48"]


def test_callers_get_the_last_hub_answer_while_a_new_probe_is_in_flight(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    probe = weights_module._HubProbe()
    answers, in_flight, may_answer = [True, False], threading.Event(), threading.Event()

    def slow_head(endpoint, **options):
        if probe.probe_count == 1:
            in_flight.set()
            may_answer.wait(10)
        if not answers[probe.probe_count]:
            raise httpx.ConnectError("refused")

    monkeypatch.setattr(httpx, "head", slow_head)
    assert probe.reachable() is True
    monkeypatch.setattr(weights_module, "HUB_PROBE_TTL_S", 0.0)
    refresh = threading.Thread(target=probe.reachable)
    refresh.start()
    assert in_flight.wait(5)
    started = time.monotonic()
    assert probe.reachable() is True  # the last answer, at once, not after the probe's timeout
    assert time.monotonic() - started < 1
    may_answer.set()
    refresh.join(5)
    assert probe.probe_count == 2


def test_cache_evicts_least_recently_used_and_stays_within_capacity(use_weights_dir):
    loads = []
    cache = ModelCache(capacity=1, loader=lambda v: loads.append(v.name) or load_model(v))
    cache.get("s12")
    cache.get("m36")
    assert cache.cached_variants() == ["m36"]
    cache.get("s12")
    assert loads == ["s12", "m36", "s12"]
    assert len(cache.cached_variants()) == 1


def test_cache_capacity_must_be_positive():
    with pytest.raises(ValueError):
        ModelCache(capacity=0)


class _RunsCodeWhenUnpickled:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_that_runs_code_on_load_is_not_executed(tmp_path, monkeypatch):
    from transformers import PoolFormerConfig, PoolFormerImageProcessor

    folder = tmp_path / "poolformer_s24"
    variant_config = PoolFormerConfig(depths=[4, 4, 12, 4], hidden_sizes=[64, 128, 320, 512])
    variant_config.save_pretrained(folder)
    PoolFormerImageProcessor().save_pretrained(folder)
    marker = tmp_path / "code-ran"
    torch.save({"weight": _RunsCodeWhenUnpickled(marker)}, folder / "pytorch_model.bin")
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))

    with pytest.raises(WeightsUnavailableError) as info:
        load_model("s24")
    assert "poolformer_s24" in info.value.details
    assert not marker.exists()
    # The payload is live: an unsafe load would have run it.
    torch.load(folder / "pytorch_model.bin", weights_only=False)
    assert marker.exists()


def test_a_failed_load_evicts_nothing(use_weights_dir):
    cache = ModelCache(capacity=1)
    cache.get("s12")
    with pytest.raises(WeightsUnavailableError):
        cache.get("s24")  # no weights for it anywhere
    assert cache.cached_variants() == ["s12"]
    assert cache.load_counts == {"s12": 1}


def test_runnable_variants_are_the_loaded_ones_and_those_whose_weights_are_here(use_weights_dir, monkeypatch):
    cache = ModelCache(loader=lambda variant: variant.name)
    assert cache.runnable_variants() == ("s12", "m36", "shapes", "pairs")
    cache.get("s24")  # a model loaded once still runs when its files are gone
    monkeypatch.delenv("POOLFORMER_WEIGHTS_DIR")
    runnable = cache.runnable_variants()
    assert "s24" in runnable and "m36" not in runnable and runnable[-2:] == ("shapes", "pairs")
