"""The touchable token mixer as the Inside tab and the Lesson's mixer step show it: one forward pass
per image, model and stage through the runner, every click after it read from the store."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
import torch.nn.functional as F
from paths import EXAMPLES, STAR

from poolformer_demo.token_mixer import mixer_maps, token_at
from poolformer_demo.ui.kit.mixer_section import MixerSection
from poolformer_demo.ui.tabs.inside.page import InsideTab
from poolformer_demo.ui.tabs.lesson import view as lesson_view
from poolformer_demo.ui.tabs.lesson.page import MIXER_STEP, LessonTab

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_clicked_token_shows_what_avgpool_minus_n_computes_for_it(shapes_model, runner, star_session):
    cache, _ = shapes_model
    section = MixerSection(cache, runner, lambda session: (session.image, session.variant))
    started = runner.started
    _, first, _ = section.show_mixer(star_session, 2)
    _, page, _ = section.show_mixer_token(star_session, 2, "en", SimpleNamespace(index=[3, 5]))
    assert runner.started == started + 1  # the second token was read from the stored maps
    assert 'data-y="3" data-x="5"' in page
    maps = mixer_maps(str(STAR), "shapes", 2, cache=cache)
    n = torch_tensor(maps.normed)
    expected = F.avg_pool2d(n[None], 3, stride=1, padding=1, count_include_pad=False)[0] - n
    token = token_at(maps, 3, 5)
    for channel in token.channels:
        assert channel.output == pytest.approx(float(expected[channel.channel, 3, 5]), abs=1e-5)
        # The table shows the same number, signed, to three decimals.
        assert f">{channel.output:+.3f}</td>" in page
    assert 'data-y="8" data-x="8"' in first  # the centre token of the 16x16 grid before any click


def torch_tensor(values: np.ndarray):
    import torch

    return torch.from_numpy(np.asarray(values))


def test_the_inside_tab_asks_for_an_analysis_first_and_the_lesson_uses_its_example(app_cache, runner):
    status, *_ = InsideTab(app_cache, runner).mixer.show_mixer(None, 1)
    assert "Analyse an image on the" in status
    lesson = LessonTab(app_cache, runner, EXAMPLES)
    status, page, _ = lesson.mixer.show_mixer(None, 1)
    assert status == "" and 'class="pf-mixer"' in page


def test_the_mixer_appears_under_the_lessons_mixer_step_only(app_cache, runner):
    step = next(i for i, s in enumerate(lesson_view.STEPS, start=1) if s.key == MIXER_STEP)
    assert LessonTab.mixer_shown(step)["visible"] is True
    assert LessonTab.mixer_shown(step + 1)["visible"] is False
    lesson = LessonTab(app_cache, runner, EXAMPLES)
    assert lesson.mixer_on_its_step(None, step + 1, 1) == (gr.skip(), gr.skip(), gr.skip())
    status, page, _ = lesson.mixer_on_its_step(None, step, 1)
    assert status == "" and 'class="pf-mixer"' in page
