"""The Explain tab's named endpoints for programs: `/explain` and `/sanity`, JSON with the pictures as
data URIs, from the same computations as the page, and their hidden inputs."""

from __future__ import annotations

from collections.abc import Mapping

import gradio as gr

from ....attributions import DEFAULT_METHODS, METHOD_TITLES, parse_methods
from ....cams import DEFAULT_CAM
from ....explanation import explain
from ....faithfulness import FaithfulnessSettings
from ....runner import LruStore, Runner
from ....variants import DEFAULT_VARIANT, STAGE_COUNT, get_variant
from ....weights import ModelCache
from ...kit.endpoints import expose, image_input, text_input
from ...kit.errors import user_error
from ...kit.pictures import content_key
from ...kit.runs import LONG
from . import trust, view


class ExplainEndpoints:
    """The endpoints, bound to the model cache, the explanation settings and the stores the app was
    built with (ExplainTab sets them)."""

    cache: ModelCache
    runner: Runner
    settings: Mapping[str, object]
    faithfulness: FaithfulnessSettings
    shared_answers: LruStore
    """Answers shared by the page and the endpoints: explanations and sanity checks."""
    api_answers: LruStore

    # -----------------------------------------------------------------------------------------
    # The computations behind the endpoints and the page
    # -----------------------------------------------------------------------------------------

    def _explain(self, image, variant: str, target, methods, stage: int, faithfulness: bool = False, **progress):
        return explain(
            image,
            get_variant(variant).name,
            target=target,
            methods=methods,
            stage=stage,
            settings=self.settings,
            faithfulness=faithfulness,
            faithfulness_settings=self.faithfulness,
            cache=self.cache,
            **progress,
        )

    @staticmethod
    def _explain_key(image, variant: str, target, names: tuple[str, ...], stage: int, faithfulness: bool) -> tuple:
        """What names one explanation: the image's content, not its file (every upload is a new file)."""
        return ("explain", content_key(image), variant, target, names, stage, faithfulness)

    @staticmethod
    def _sanity_key(image, variant: str, target, method: str, stage: int) -> tuple:
        return ("sanity", content_key(image), variant, target, method, stage)

    # -----------------------------------------------------------------------------------------
    # The named endpoint for programs
    # -----------------------------------------------------------------------------------------

    def explain_prediction(
        self,
        image: str | None,
        variant: str = DEFAULT_VARIANT,
        target: str | None = None,
        methods: list[str] | None = None,
        stage: int = STAGE_COUNT,
        faithfulness: bool = False,
        arrays: bool = False,
    ):
        """Explain one prediction of a PoolFormer model several ways, optionally scoring how faithful each one is.

        Args:
            image: the picture to explain.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            target: the class to explain (a name or an index); empty means the top prediction.
            methods: any of gradcam, hirescam, gradcampp, xgradcam, layercam (CAMs at `stage`), ig (Integrated
                Gradients), smoothgrad, occlusion; empty means gradcam, ig, smoothgrad, occlusion.
            stage: the stage (1-4) the CAM methods are taken at.
            faithfulness: also compute deletion and insertion AUCs for every method and random maps.
            arrays: also return each map as a float32 .npy data URI, and the raw CAMs of every stage.

        Returns JSON: the target and top-5; per method its settings, seconds, colour-scale limit, summary (min, max,
        sum, peak) and picture (data URI, diverging colours, white at 0); the five CAMs of every stage as pictures;
        with faithfulness, per method the deletion and insertion AUCs and curves against the random baseline.
        """
        try:
            names = parse_methods(methods or list(DEFAULT_METHODS))
            name, target, stage, faithfulness = (
                get_variant(variant).name,
                target or None,
                int(stage),
                bool(faithfulness),
            )
            key = self._explain_key(image, name, target, names, stage, faithfulness)
            answer = self.api_answers.get((key, bool(arrays)))
            if answer is not None:
                return answer

            def compute(progress, should_stop):
                return self._explain(image, name, target, names, stage, faithfulness, should_stop=should_stop)

            explanation = self.runner.run(compute, LONG, key=key, store=self.shared_answers)
            report = None
            if explanation.faithfulness is not None:
                plot = trust.faithfulness_plot_uri(explanation.faithfulness, METHOD_TITLES)
                report = trust.faithfulness_api(explanation.faithfulness, plot)
            answer = view.explain_api(
                explanation,
                view.attribution_pictures(explanation),
                view.cam_family_pictures(explanation.analysis),
                arrays=bool(arrays),
                faithfulness=report,
            )
            self.api_answers.put((key, bool(arrays)), answer)
            return answer
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    def check_sanity(
        self,
        image: str | None,
        variant: str = DEFAULT_VARIANT,
        target: str | None = None,
        method: str = DEFAULT_CAM,
        stage: int = STAGE_COUNT,
    ):
        """Re-initialise a copy of the model from the top layer down and explain the same class again at each step.

        Args:
            image: the picture to explain.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            target: the class to explain (a name or an index); empty means the top prediction.
            method: gradcam, hirescam, gradcampp, xgradcam or layercam (one step per block), or ig, smoothgrad or
                occlusion (one step per stage, a full attribution each: slow).
            stage: the stage (1-4) the CAM methods are taken at.

        Returns JSON: per step the layers re-initialised, the Spearman rank correlation of the map with the trained
        model's, what the partly randomised model predicts, and the map (data URI); `baseline`: rho and SSIM of the
        trained map with fully randomised models' maps and between those (the null), and the `verdict` (passes,
        fails or inconclusive); a reading of the result. The served model is never changed.
        """
        from ....sanity import cascading_randomization

        try:
            (method,) = parse_methods([method or DEFAULT_CAM])
            name, target = get_variant(variant).name, target or None

            def compute(progress, should_stop):
                return cascading_randomization(
                    image,
                    name,
                    method=method,
                    stage=int(stage),
                    target=target,
                    settings=self.settings,
                    should_stop=should_stop,
                    cache=self.cache,
                )

            key = self._sanity_key(image, name, target, method, int(stage))
            check = self.runner.run(compute, LONG, key=key, store=self.shared_answers)
            return trust.sanity_api(check, trust.sanity_pictures(check))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    def expose_endpoints(self, events: dict) -> None:
        """Expose `/explain` and `/sanity`, with hidden inputs of their own, queued with `events`."""
        image, variant, target = image_input(), text_input(DEFAULT_VARIANT), text_input()
        stage = gr.Number(STAGE_COUNT, precision=0, minimum=1, maximum=STAGE_COUNT, visible=False)
        methods = gr.CheckboxGroup(list(METHOD_TITLES), value=list(DEFAULT_METHODS), visible=False)
        flags = [gr.Checkbox(False, visible=False) for _ in ("faithfulness", "arrays")]
        method = gr.Dropdown(list(METHOD_TITLES), value=DEFAULT_CAM, visible=False)
        expose(self.explain_prediction, "explain", [image, variant, target, methods, stage, *flags], **events)
        expose(self.check_sanity, "sanity", [image, variant, target, method, stage], **events)
