"""The token mixer you can touch, in words: each judgement follows its number, and turns round
when the number does (altered results built with dataclasses.replace)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from paths import STAR

from poolformer_demo.mixer_reading import channel_sentence, mixer_reading, where_on_grid
from poolformer_demo.token_mixer import StageCost, token_mixing


@pytest.mark.parametrize(
    "y, x, rows, cols, words",
    [
        (0, 0, 4, 4, "in the top-left corner"),
        (3, 3, 4, 4, "in the bottom-right corner"),
        (0, 2, 4, 4, "on the top edge"),
        (1, 1, 4, 4, "in the middle"),
        (1, 1, 8, 8, "towards the top left"),
        (4, 6, 8, 8, "towards the right"),
    ],
)
def test_positions_are_named_as_the_picture_shows_them(y, x, rows, cols, words):
    assert where_on_grid(y, x, rows, cols) == words


def test_channel_sentence_turns_round_with_the_sign_of_the_output(shapes_model):
    cache, _ = shapes_model
    window = token_mixing(STAR, "shapes", 1, 16, 16, cache=cache).channels[0]
    below = dataclasses.replace(window, mean=0.5, token=-0.25, output=0.75)
    above = dataclasses.replace(window, mean=-0.5, token=0.25, output=-0.75)
    same = dataclasses.replace(window, mean=0.25, token=0.248, output=0.002)
    assert "-0.25, below it" in channel_sentence(below) and "+0.75, which lifts" in channel_sentence(below)
    assert "0.25, above it" in channel_sentence(above) and "-0.75, which pulls" in channel_sentence(above)
    assert "the same" in channel_sentence(same)


def test_reading_follows_the_window_the_attention_and_the_cost(shapes_model):
    cache, _ = shapes_model
    corner = mixer_reading(token_mixing(STAR, "shapes", 1, 0, 0, cache=cache))
    assert "in the top-left corner" in corner.position and "holds 4 of 9 positions" in corner.window
    result = token_mixing(STAR, "shapes", 4, 1, 2, cache=cache)
    reading = mixer_reading(result)
    assert "holds all 9 positions" in reading.window
    assert "16 tokens" in reading.attention and "at stage 4, 2× as many" in reading.cost

    on_token = np.zeros_like(result.attention)
    on_token[1, 2] = 1.0
    inside = mixer_reading(dataclasses.replace(result, attention=on_token))
    assert "keeps most of it (100%) inside the window" in inside.attention
    far = np.zeros_like(result.attention)
    far[3, 0] = 1.0
    assert (
        "puts most of it (100%) on tokens the window never reads"
        in mixer_reading(dataclasses.replace(result, attention=far)).attention
    )
    small = tuple(StageCost(s, (2, 2), 4, 9, 4) for s in (1, 2, 3, 4))
    assert "no more than pooling" in mixer_reading(dataclasses.replace(result, costs=small)).cost
