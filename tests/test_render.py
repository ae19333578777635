import numpy as np
import pytest
import torch

from poolformer_demo import render


def test_pca_view_colours_positions_by_their_channel_vectors():
    # Two regions with different channel patterns must get clearly different colours.
    torch.manual_seed(0)
    activation = torch.randn(64, 8, 8) * 0.01
    activation[:32, :, :4] += 3.0
    activation[32:, :, 4:] += 3.0
    picture = render.pca_view(activation).astype(float)
    cell = picture.shape[0] // 8
    left, right = (
        picture[: 8 * cell, : 4 * cell].reshape(-1, 3).mean(0),
        picture[: 8 * cell, 4 * cell :].reshape(-1, 3).mean(0),
    )
    assert np.abs(left - right).max() > 100


@pytest.mark.parametrize("shape", [(64, 56, 56), (512, 7, 7)])
def test_pca_scores_match_an_svd_whichever_gram_matrix_is_used(shape):
    torch.manual_seed(1)
    activation = torch.randn(*shape)
    channels, height, width = shape
    features = activation.reshape(channels, -1).T.double()
    features = features - features.mean(0)
    u, s, _ = torch.linalg.svd(features, full_matrices=False)
    expected = (u[:, :3] * s[:3]).float().numpy()
    # Compare via the rendered colours' underlying ranks: same component up to sign.
    picture = render.pca_view(activation)
    first_channel = (
        picture[:: picture.shape[0] // height, :: picture.shape[1] // width, 0][:height, :width]
        .reshape(-1)
        .astype(float)
    )
    correlation = abs(np.corrcoef(first_channel, expected[:, 0])[0, 1])
    assert correlation > 0.95


def test_top_channels_view_shows_the_most_active_channels_first():
    activation = torch.zeros(32, 4, 4)
    activation[7] = torch.arange(16.0).reshape(4, 4)  # the most active channel has a gradient
    grid = render.top_channels_view(activation, count=4)
    first_tile = grid[: grid.shape[0] // 2 - 1, : grid.shape[1] // 2 - 1]
    assert len(np.unique(first_tile.reshape(-1, 3), axis=0)) > 1
    last_tile = grid[grid.shape[0] // 2 + 1 :, grid.shape[1] // 2 + 1 :]
    assert len(np.unique(last_tile.reshape(-1, 3), axis=0)) == 1


def test_overlay_blends_by_opacity():
    image = np.full((4, 4, 3), 100, np.uint8)
    cam = np.zeros((4, 4), np.float32)
    assert np.array_equal(render.overlay(image, cam, 0.0), image)
    full = render.overlay(image, cam, 1.0)
    assert np.array_equal(full[0, 0], render.colormap_table(render.CAM_CMAP)[0])


def test_constant_maps_render_without_dividing_by_zero():
    assert render.normalize(np.ones((3, 3))).max() == 0
    assert render.channel_mean_view(torch.ones(8, 7, 7)).shape[2] == 3


def test_caption_strip_is_added_above_the_picture():
    picture = render.with_caption(np.zeros((50, 60, 3), np.uint8), "Stage 1")
    assert picture.size == (60, 72)
    assert np.asarray(picture)[:22].mean() > 200
