"""The ZeroGPU contract: on a Hugging Face ZeroGPU Space CUDA exists only inside a call decorated
with `@spaces.GPU`, so every PoolFormer forward pass the app makes must happen inside one.

A stand-in `spaces` module marks the calls its `GPU` decorator wraps; a global forward hook records
every PoolFormer forward and whether it ran inside a marked call. Every page action and endpoint of
the built app that runs in a compute lane is called, and none may run a forward outside a mark.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
from dataclasses import replace

import pytest
import torch
from paths import PAIRS_SAME, PHOTO, STAR
from transformers.models.poolformer.modeling_poolformer import PoolFormerModel

from poolformer_demo.attributions import IntegratedGradientsSettings, OcclusionSettings, SmoothGradSettings
from poolformer_demo.faithfulness import FaithfulnessSettings
from poolformer_demo.shapes.lab import LabConfig
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui.kit.runs import EXPLORE, LAB, LONG, MODEL, app_runner

SMALL = {
    "ig": IntegratedGradientsSettings(n_steps=4, internal_batch_size=4),
    "smoothgrad": SmoothGradSettings(nt_samples=2, nt_samples_batch_size=2),
    "occlusion": OcclusionSettings(window=64, stride=64, perturbations_per_eval=4),
}
TINY_LAB = LabConfig(train_size=64, eval_size=16, batch_size=16, curve_points=2)


class Marks(threading.local):
    depth = 0


@pytest.fixture
def gpu_calls(monkeypatch):
    """A stand-in for Hugging Face's `spaces` package whose `GPU` decorator marks the calls it wraps."""
    marks, durations = Marks(), []

    def gpu(duration=60):
        def wrap(function):
            @functools.wraps(function)
            def marked(*args, **kwargs):
                durations.append(duration)
                marks.depth += 1
                try:
                    return function(*args, **kwargs)
                finally:
                    marks.depth -= 1

            return marked

        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    return marks, durations


@pytest.fixture
def forwards(gpu_calls):
    """Every PoolFormer forward pass while the test runs: (inside a GPU call, thread name)."""
    marks, _ = gpu_calls
    seen: list[tuple[bool, str]] = []

    def record(module, inputs):
        if isinstance(module, PoolFormerModel):
            seen.append((marks.depth > 0, threading.current_thread().name))

    handle = torch.nn.modules.module.register_module_forward_pre_hook(record)
    yield seen
    handle.remove()


def _drain(result):
    """A handler's answer; a generator handler is run to its end, as Gradio does."""
    if isinstance(result, types.GeneratorType):
        return list(result)
    return result


@pytest.mark.slow
def test_every_page_action_and_endpoint_runs_its_forward_passes_inside_the_gpu_call(
    app_cache, star_session, forwards, gpu_calls, monkeypatch
):
    _, durations = gpu_calls
    runner = app_runner(2, refresh_s=0.02)
    demo = ui_app.build_demo(cache=app_cache, shapes_available=True, runner=runner)
    lanes = {EXPLORE, MODEL, LONG, LAB}
    handlers = {fn.name: fn.fn for fn in demo.fns.values() if fn.fn is not None and fn.concurrency_id in lanes}
    tabs = {type(h.__self__).__name__: h.__self__ for h in handlers.values() if hasattr(h, "__self__")}
    explain, lab = tabs["ExplainTab"], tabs["LabSection"]
    explain.settings, explain.faithfulness = (
        {**explain.settings, **SMALL},
        FaithfulnessSettings(steps=3, random_orders=1),
    )
    lab.steps, lab.configs = 4, {task: replace(TINY_LAB, task=task) for task in lab.configs}
    forwards.clear()  # only what the calls below run counts

    calls = {
        "show": (str(STAR), "shapes", None, None),
        "show_photo_example": (str(PHOTO), "s12", None),
        "show_shapes_example": (str(STAR), None),
        "show_pairs_example": (str(PAIRS_SAME), None),
        "retarget": (star_session, "circle"),
        "retarget_from_label": None,  # needs a click's SelectData: the same handler as retarget
        "analyze_image": (str(STAR), "shapes", ""),
        "linked_analyse": ({"example": STAR.name}, str(STAR), "shapes", None),
        "show_step": [(star_session, number) for number in range(1, 11)],
        "back": (star_session, 2),
        "forward": (star_session, 1),
        "pick": None,  # needs a click's SelectData: the same computation as show_step
        "linked_show_step": ({"tab": "lesson"}, star_session, 6),
        "linked_show_anatomy": ({"tab": "inside"}, star_session, 2, 1),
        "linked_show_knockout": ({"mixer_off": ["1"]}, star_session, ["1"], []),
        "linked_show_field": ({"tab": "inside"}, star_session, 1, None),
        "linked_show_cams": ({"tab": "explain"}, star_session, None),
        "linked_compare_ticked": ({"tab": "compare"}, star_session, None, ["shapes", "pairs"]),
        "download": (star_session,),
        "show_cams": (star_session, None),
        "run_attributions": (star_session, ["gradcam", "ig"], 4),
        "run_faithfulness": (star_session, ["smoothgrad"], 4),
        "run_sanity": (star_session, "occlusion", 4),
        "explain_prediction": (str(STAR), "shapes", "", ["gradcam", "occlusion"], 4, True, False),
        "check_sanity": (str(STAR), "shapes", "", "gradcam", 4),
        "run_compare": (star_session, None, ["shapes", "pairs"]),
        "compare_variants": (str(STAR), ["shapes", "pairs"], ""),
        "show_anatomy": (star_session, 2, 1),
        "show_knockout": (star_session, ["1", "2"], ["4"]),
        "show_field": (star_session, 3, (0.25, 0.75)),
        "show_field_at": None,  # needs a click's SelectData: the same computation as show_field
        "inspect_block": (str(STAR), "shapes", 1, 1),
        "knock_out_parts": (str(STAR), "shapes", ["1"], [], ""),
        "find_receptive_field": (str(STAR), "shapes", 2, 1, 1),
        "run_on_page": (["pooling"], "pairs"),
        "show_mixer": [(star_session, 2), (star_session, 1, "en", (0, 3))],
        "show_mixer_token": None,  # needs a click's SelectData: the same handler as show_mixer with a point
        "mixer_on_its_step": [(star_session, 6, 2), (None, 6, 1)],
        "run_ablation_lab": (["identity"], 4, "pairs"),
    }
    missing = sorted(set(handlers) - set(calls))
    assert not missing, f"no call in this test for the compute handlers {missing}"
    for name, arguments in calls.items():
        if arguments is None:
            continue
        before = len(forwards)
        for args in arguments if isinstance(arguments, list) else [arguments]:
            _drain(handlers[name](*args))
        outside = [thread for inside, thread in forwards[before:] if not inside]
        assert not outside, f"{name} ran {len(outside)} PoolFormer forward passes outside a GPU call ({outside[0]})"
    runner.close()
    assert forwards, "no forward pass was seen at all: the hook did not record"
    assert set(durations) >= {20, 60, 120, 240}
