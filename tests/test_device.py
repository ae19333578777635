"""Where computations run: the device setting, and models and inputs moved there."""

import pytest
import torch

from poolformer_demo import ModelCache
from poolformer_demo.blocks import model_inputs
from poolformer_demo.device import choose_device, gpu_task
from poolformer_demo.errors import DeviceUnavailableError, PoolFormerDemoError


def test_cpu_is_the_cpu():
    assert choose_device("cpu") == torch.device("cpu")
    assert choose_device(" CPU ") == torch.device("cpu")


def test_auto_takes_cuda_only_where_torch_finds_it():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device("auto").type == expected
    assert choose_device(None).type == expected
    assert choose_device("").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_without_cuda_says_so_and_how_to_fix_it():
    with pytest.raises(DeviceUnavailableError) as info:
        choose_device("cuda")
    message = str(info.value)
    assert "POOLFORMER_DEVICE=cuda" in message and "finds no CUDA GPU" in message
    assert "POOLFORMER_DEVICE=cpu" in message
    assert isinstance(info.value, PoolFormerDemoError)


def test_an_unknown_device_is_refused_with_the_choices():
    with pytest.raises(DeviceUnavailableError, match="use one of auto, cpu, cuda"):
        choose_device("tpu")


def test_the_cache_moves_models_to_its_device_and_inputs_follow(photo, use_weights_dir):
    cache = ModelCache(capacity=1, device="cpu")
    loaded = cache.get("s12")
    assert cache.device == torch.device("cpu")
    assert {p.device for p in loaded.model.parameters()} == {torch.device("cpu")}
    assert model_inputs(loaded, photo).device == torch.device("cpu")


def test_without_the_spaces_package_gpu_task_changes_nothing():
    def compute(x):
        return x + 1

    assert gpu_task(30)(compute) is compute
