import json

import pytest
import torch
from transformers import PoolFormerConfig, PoolFormerForImageClassification

from poolformer_demo import HUB_VARIANTS, UnknownVariantError, get_variant
from poolformer_demo.variants import BundledFacts

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


@pytest.mark.parametrize("name", ["shapes", "pairs"])
def test_bundled_models_facts_are_read_from_the_files_beside_their_weights(name):
    variant = get_variant(name)
    folder = variant.bundled_dir
    trained = json.loads((folder / "training.json").read_text())
    measured = json.loads((folder / "measurement.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    facts = variant.bundled
    assert facts.task == trained["task"] == name
    assert (facts.steps, facts.train_images, facts.aid_weight) == (
        trained["steps"],
        trained["train_images"],
        trained["seg_weight"],
    )
    assert (facts.accuracy, facts.pointing_game, facts.macs) == (
        measured["accuracy"],
        measured["pointing_game"],
        measured["macs"],
    )
    assert variant.depths == tuple(config["depths"]) and variant.hidden_sizes == tuple(config["hidden_sizes"])
    assert variant.params_m == round(measured["parameters"] / 1e6, 2)


def test_each_bundled_models_training_note_says_whether_it_had_a_training_aid():
    shapes, pairs = get_variant("shapes"), get_variant("pairs")
    assert not shapes.bundled.labels_only and "auxiliary loss" in shapes.training
    assert f"{100 * shapes.bundled.pointing_game:.1f} %" in shapes.training
    assert pairs.bundled.labels_only and "class labels alone (no training aid)" in pairs.training
    # The bar is the stronger of the two maps that know nothing: a random pixel for discs near the edges.
    assert f"{100 * pairs.bundled.chance_pointing:.1f} % for a map that peaks at a random pixel" in pairs.training


def test_hub_variants_have_no_bundled_facts_and_no_training_note():
    assert all(v.bundled is None and v.training == "" for v in HUB_VARIANTS.values())


def test_a_bundled_folder_without_its_facts_files_has_no_facts(tmp_path):
    assert BundledFacts.read(tmp_path) is None


def test_the_training_note_says_how_the_model_was_trained_and_sets_its_pointing_beside_both_baselines():
    from dataclasses import replace

    facts = get_variant("shapes").bundled
    note = facts.training_note
    assert f"{facts.steps:,} steps" in note and f"{facts.train_images:,} generated images" in note
    assert f"weight {facts.aid_weight:g}" in note and "discarded afterwards" in note
    for share in (facts.pointing_game, facts.centre_baseline, facts.chance_pointing):
        assert f"{100 * share:.1f} %" in note
    # The note says what was measured and claims no better localisation from the aid.
    assert "tidier" not in note and "better" not in note
    altered = replace(facts, steps=40, pointing_game=0.5).training_note
    assert "40 steps" in altered and "50.0 % of" in altered
