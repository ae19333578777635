import gc
import os

import pytest
from transformers import PoolFormerForImageClassification

from poolformer_demo import ModelCache, analyze


def _rss_mb() -> float:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def _live_models() -> int:
    gc.collect()
    return sum(type(o) is PoolFormerForImageClassification for o in gc.get_objects())


@pytest.mark.slow
def test_resident_memory_stays_flat_over_200_analyses(use_weights_dir, photo):
    cache = ModelCache()
    targets = [None, 1, "tabby cat", 281]
    for i in range(20):
        analyze(photo, "s12", target=targets[i % 4], cache=cache)
    gc.collect()
    baseline = _rss_mb()
    for i in range(180):
        analyze(photo, "s12", target=targets[i % 4], cache=cache)
    gc.collect()
    growth = _rss_mb() - baseline
    print(f"RSS after 20 analyses {baseline:.0f} MB, growth over the next 180: {growth:+.1f} MB")
    assert growth < 50


@pytest.mark.slow
def test_cycling_all_variants_never_holds_more_than_capacity(all_variants_dir, monkeypatch):
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(all_variants_dir))
    cache = ModelCache(capacity=2)
    before = _live_models()
    order = ["s12", "s24", "s36", "m36", "m48", "s12", "m48", "s24"]
    for name in order:
        loaded = cache.get(name)
        assert loaded.variant.name == name
        del loaded
        assert len(cache.cached_variants()) <= 2
        assert _live_models() - before <= 2
    assert cache.cached_variants() == ["m48", "s24"]
    assert sum(cache.load_counts.values()) == 7  # m48 was still cached on its second request
