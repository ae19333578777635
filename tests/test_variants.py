import pytest
import torch
from transformers import PoolFormerConfig, PoolFormerForImageClassification

from poolformer_demo import HUB_VARIANTS, UnknownVariantError, get_variant

PAPER = {  # name: (params M, MACs G, top-1 %)
    "s12": (12, 1.8, 77.2),
    "s24": (21, 3.4, 80.3),
    "s36": (31, 5.0, 81.4),
    "m36": (56, 8.8, 82.1),
    "m48": (73, 11.6, 82.5),
}


def test_registry_holds_the_five_released_variants():
    assert list(HUB_VARIANTS) == list(PAPER)
    for name, (params, macs, top1) in PAPER.items():
        variant = HUB_VARIANTS[name]
        assert (variant.params_m, variant.macs_g, variant.top1) == (params, macs, top1)
        assert variant.hub_id == f"sail/poolformer_{name}"


@pytest.mark.parametrize("name", list(PAPER))
def test_architecture_parameter_count_matches_the_paper(name):
    variant = get_variant(name)
    config = PoolFormerConfig(depths=list(variant.depths), hidden_sizes=list(variant.hidden_sizes), num_labels=1000)
    # Counting on the meta device builds the real modules without allocating their weights.
    with torch.device("meta"):
        model = PoolFormerForImageClassification(config)
    params_m = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(params_m - variant.params_m) <= 0.5


def test_variant_lookup_accepts_hub_style_names():
    assert get_variant("sail/poolformer_M48").name == "m48"
    assert get_variant(" S12 ").name == "s12"


def test_unknown_variant_names_the_choices():
    with pytest.raises(UnknownVariantError, match="s12, s24, s36, m36, m48"):
        get_variant("s18")
