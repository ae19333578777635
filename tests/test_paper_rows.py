"""The papers' own S12 rows as data (Table 5's norms and activations, MetaFormer Baselines'
IdentityFormer and RandFormer with their norm), each lab arm's difference from the paper's model,
and the no-residual chain at the paper's layer scale."""

import pytest
import torch
from torch import nn

from poolformer_demo.shapes import TEST_SEED_START
from poolformer_demo.shapes.arms import ARM_NAMES, ARMS, PositionNorm, RandomMixing, build_arm_model, lab_architecture
from poolformer_demo.shapes.lab import LAB_CONFIGS
from poolformer_demo.shapes.pairs import make_pair_dataset
from poolformer_demo.shapes.train import to_pixel_values
from poolformer_demo.variants import ONE_GROUP_NORM, PAPER_S12_ABLATIONS, norm_path_points, paper_result

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rows(group: str) -> dict[str, float]:
    return {r.setting: r.top1 for r in PAPER_S12_ABLATIONS if r.group == group and "Table 5" in r.source}


def test_table5s_normalisation_and_activation_rows_are_all_present():
    assert _rows("normalisation") == {
        "GroupNorm, one group (PoolFormer-S12)": 77.2,
        "LayerNorm": 76.5,
        "BatchNorm": 76.4,
    }
    assert _rows("activation") == {"GELU (PoolFormer-S12)": 77.2, "ReLU": 76.4}


def test_the_norms_path_between_positions_is_worth_the_groupnorm_row_minus_the_layernorm_row():
    assert norm_path_points() == 0.7
    assert "over (H, W, C)" in paper_result("GroupNorm, one group (PoolFormer-S12)").norm
    assert "per position" in paper_result("LayerNorm").norm


def test_the_later_papers_identity_and_random_models_are_cited_with_their_one_group_norm():
    identity = paper_result("identity (IdentityFormer-S12)")
    random = paper_result("random mixing (RandFormer-S12)")
    assert (identity.top1, random.top1) == (74.6, 76.6)
    for row in (identity, random):
        assert row.source == "MetaFormer Baselines for Vision (Yu et al., TPAMI 2024)"
        assert row.norm == ONE_GROUP_NORM and "(H, W, C)" in row.norm
    assert "stages 3-4 only" in random.note


def test_every_row_has_a_source_and_says_what_its_norms_span():
    assert all(r.source and r.norm and 0 <= r.top1 <= 100 for r in PAPER_S12_ABLATIONS)


def test_every_arm_says_how_it_differs_from_the_papers_model():
    assert all(ARMS[name].paper_difference for name in ARMS)
    assert "no paper trained it" in ARMS["global"].paper_difference


def test_the_random_arm_has_a_random_matrix_in_as_many_stages_as_it_says():
    config = LAB_CONFIGS["pairs"]
    model = build_arm_model("random", lab_architecture(config), config.image_size, seed=0)
    stages = [
        any(isinstance(layer.pooling, RandomMixing) for layer in layers) for layers in model.poolformer.encoder.block
    ]
    # At 128 px no stage has more tokens than MAX_RANDOM_TOKENS, so unlike RandFormer-S12 (stages 3-4
    # only) every stage mixes randomly.
    assert stages == [True, True, True, True]
    assert "all four stages" in ARMS["random"].paper_difference and "stages 3-4" in ARMS["random"].paper_difference


def test_the_identity_arm_keeps_poolformers_one_group_norm_and_the_control_does_not():
    config = LAB_CONFIGS["pairs"]
    kept = build_arm_model("identity", lab_architecture(config), config.image_size, seed=0)
    swapped = build_arm_model("identity", lab_architecture(config), config.image_size, seed=0, norm="position")
    norms = [m for m in kept.modules() if isinstance(m, nn.GroupNorm)]
    assert len(norms) == 2 * sum(config.depths) + 1 and all(m.num_groups == 1 for m in norms)
    assert not any(isinstance(m, nn.GroupNorm) for m in swapped.modules())
    assert sum(isinstance(m, PositionNorm) for m in swapped.modules()) == len(norms)
    assert "one-group GroupNorm" in ARMS["identity"].paper_difference


def test_at_the_papers_layer_scale_the_no_residual_chain_is_zero_by_the_end_of_stage3():
    config = LAB_CONFIGS["pairs"]
    architecture = lab_architecture(config)
    architecture.layer_scale_init_value = 1e-5
    model = build_arm_model("no_residual", architecture, config.image_size, seed=0).eval()
    images = make_pair_dataset(6, TEST_SEED_START).images
    with torch.no_grad():
        out = model.poolformer(to_pixel_values(images), output_hidden_states=True)
        logits = model(pixel_values=to_pixel_values(images)).logits
    stage_max = [float(h.abs().max()) for h in out.hidden_states]
    # Each block shrinks the map about 1e-5 times, not 1e-10: below the norms' eps each norm divides by
    # sqrt(eps) and undoes one of the two layer scales; float32 runs out before stage 3 ends.
    assert 1e-12 < stage_max[1] / stage_max[0] < 1e-8  # stage 2's two blocks: about 1e-5 each
    assert 0 < stage_max[1] < 1e-15 and stage_max[2] == stage_max[3] == 0.0
    assert torch.equal(logits, logits[:1].expand_as(logits))  # the same answer for every image
    assert {name: ARMS[name].paper_difference for name in ARM_NAMES}["no_residual"].startswith(
        "layer scale starts at 1.0"
    )
