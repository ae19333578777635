"""One image through several variants, one model at a time."""

import numpy as np
import pytest

from poolformer_demo import ModelCache, UnknownVariantError, WeightsUnavailableError, analyze
from poolformer_demo.comparison import compare
from poolformer_demo.errors import InvalidSettingError


@pytest.fixture(scope="module")
def comparison(weights_dir, photo):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
        # Capacity 1: each variant is loaded in turn and evicted before the next.
        cache = ModelCache(capacity=1)
        result = compare(photo, "s12, m36", target="tabby cat", cache=cache)
    return cache, result


@pytest.mark.slow
def test_each_variant_gives_top5_the_deepest_grad_cam_and_its_time(comparison):
    _, result = comparison
    assert [run.variant.name for run in result.runs] == ["s12", "m36"]
    for run in result.runs:
        assert len(run.predictions) == 5
        probabilities = [p.probability for p in run.predictions]
        assert probabilities == sorted(probabilities, reverse=True)
        assert run.target.index == 281
        assert run.cam.shape == (224, 224) and run.cam.max() == pytest.approx(1.0)
        assert run.cam_raw.shape == (7, 7)
        assert run.seconds > 0 and run.load_seconds > 0


@pytest.mark.slow
def test_runs_equal_analyze_of_each_variant(comparison, photo):
    cache, result = comparison
    # m36 is still cached: analysing it again reuses the loaded model.
    analysis = analyze(photo, "m36", target="tabby cat", cache=cache)
    run = result.runs[1]
    np.testing.assert_array_equal(run.cam_raw, analysis.stages[-1].cam_raw)
    assert run.predictions == analysis.predictions


@pytest.mark.slow
def test_models_are_loaded_one_at_a_time(comparison):
    cache, _ = comparison
    assert cache.cached_variants() == ["m36"]
    assert cache.load_counts == {"s12": 1, "m36": 1}


def test_compare_needs_two_known_variants(photo):
    with pytest.raises(InvalidSettingError, match="at least two"):
        compare(photo, "s12,S12", cache=ModelCache())
    with pytest.raises(UnknownVariantError, match="s99"):
        compare(photo, ["s12", "s99"], cache=ModelCache())


def test_the_package_exports_the_explanation_entry_points():
    import poolformer_demo
    from poolformer_demo.comparison import compare as compare_function
    from poolformer_demo.explanation import explain
    from poolformer_demo.sanity import cascading_randomization

    assert poolformer_demo.compare is compare_function
    assert poolformer_demo.explain is explain
    assert poolformer_demo.cascading_randomization is cascading_randomization


def test_a_variant_without_weights_is_reported_and_the_others_still_run(use_weights_dir, photo):
    result = compare(photo, ["s24", "s12"], cache=ModelCache(capacity=1))
    assert result.requested == ("s24", "s12")
    assert [run.variant.name for run in result.runs] == ["s12"]
    (failure,) = result.failures
    assert failure.variant.name == "s24" and isinstance(failure.error, WeightsUnavailableError)
    assert "PoolFormer-S24" in str(failure.error)
    assert result.outcome("s24") is failure and result.outcome("s12") is result.runs[0]


def test_the_page_says_the_variants_without_weights_in_one_line_not_one_column_each(use_weights_dir, photo):
    from poolformer_demo.ui.tabs.compare import view

    result = compare(photo, ["s24", "s36", "s12"], cache=ModelCache(capacity=1))
    page = view.compare_html(result)
    assert page.count('class="pf-variant') == 1 and 'data-variant="s12"' in page
    assert page.count("Not run:") == 1
    assert "Not run: PoolFormer-S24 and PoolFormer-S36, whose weights are not on this server" in page
