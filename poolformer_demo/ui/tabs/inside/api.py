"""The "Inside the block" tab's named endpoints for programs (`/anatomy`, `/knockout`,
`/receptive_field`): JSON with the pictures as data URIs, from the same computations as the page."""

from __future__ import annotations

from ....anatomy import BlockAnatomy, block_anatomy
from ....comparison import KnockoutComparison, compare_knockout
from ....knockouts import Knockouts
from ....receptive_field import ReceptiveField, receptive_field
from ....runner import LruStore, Runner
from ....variants import DEFAULT_VARIANT, get_variant
from ....weights import ModelCache
from ...kit.errors import user_error
from ...kit.pictures import content_key
from ...kit.runs import MODEL
from . import field_view as field_present
from . import view


class InsideEndpoints:
    """The computations behind the page and the endpoints, bound to the model cache, the runner and
    the store InsideTab sets."""

    cache: ModelCache
    runner: Runner
    answers: LruStore

    # -----------------------------------------------------------------------------------------
    # The computations behind the page and the API, through the runner
    # -----------------------------------------------------------------------------------------

    def _run(self, compute, key: tuple):
        return self.runner.run(lambda progress, should_stop: compute(), MODEL, key=key, store=self.answers)

    def _anatomy(self, image, variant: str, stage, block) -> tuple[BlockAnatomy, dict]:
        name = get_variant(variant).name

        def compute():
            anatomy = block_anatomy(image, name, stage=stage, block=block, cache=self.cache)
            return anatomy, view.anatomy_pictures(anatomy)

        return self._run(compute, ("anatomy", content_key(image), name, stage, block))

    def _knockout(self, image, variant: str, mixer_stages, mlp_stages, target=None) -> KnockoutComparison:
        knockouts = Knockouts.from_stages(mixer_stages, mlp_stages)
        name = get_variant(variant).name

        def compute():
            return compare_knockout(image, name, knockouts, target=target, cache=self.cache)

        return self._run(compute, ("knockout", content_key(image), name, knockouts, target))

    def _field(self, image, variant: str, stage, y=0, x=0, at=None) -> ReceptiveField:
        name = get_variant(variant).name

        def compute():
            return receptive_field(image, name, stage=stage, y=y, x=x, cache=self.cache, at=at)

        return self._run(compute, ("field", content_key(image), name, stage, y, x, at))

    # -----------------------------------------------------------------------------------------
    # Named endpoints for programs: JSON, pictures as data URIs
    # -----------------------------------------------------------------------------------------

    def inspect_block(self, image: str | None, variant: str = DEFAULT_VARIANT, stage: int = 1, block: int = 1):
        """Every step of one PoolFormer block for an image, and how much each branch changes the stream in every block.

        Args:
            image: the picture to look at.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            stage: the stage, numbered from 1.
            block: the block of that stage, numbered from 1.

        Returns JSON: the seven steps (input, normed, pooled, mixer, mixed, mlp, output) of the channel where
        the token mixer acts most, each with a title, a caption and a picture at the map's size (data URI);
        the crop; ||branch|| / ||stream|| of the token mixer and the channel MLP for every block, and their plot.
        """
        try:
            return view.anatomy_api(*self._anatomy(image, variant, stage, block))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    def knock_out_parts(
        self,
        image: str | None,
        variant: str = DEFAULT_VARIANT,
        mixer_stages: list[str] | None = None,
        mlp_stages: list[str] | None = None,
        target: str | None = None,
    ):
        """Top-5 and the deepest Grad-CAM as trained and with the token mixer or channel MLP of some stages off.

        Args:
            image: the picture to classify.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            mixer_stages: stages (1-4) whose token mixer outputs zeros.
            mlp_stages: stages (1-4) whose channel MLP adds nothing.
            target: the class Grad-CAM explains in both (a name or an index); empty means the top class as trained.

        Returns JSON: the knockouts, the target, and for "before" and "after" the top-5, the target's probability
        and the deepest stage's Grad-CAM (array and picture). The served model itself is never changed.
        """
        try:
            return view.knockout_api(self._knockout(image, variant, mixer_stages, mlp_stages, target or None))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    def find_receptive_field(
        self, image: str | None, variant: str = DEFAULT_VARIANT, stage: int = 1, y: int = 0, x: int = 0
    ):
        """The effective receptive field of one position of a stage's feature map, beside the theoretical one.

        Args:
            image: the picture to look at.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            stage: the stage, numbered from 1.
            y: the row on the stage's grid, from 0.
            x: the column on the stage's grid, from 0.

        Returns JSON: the picture (|gradient| of the position's activation over the crop, the theoretical field as
        a box), the box in crop pixels, the theoretical size and stride in pixels, the share of the effective
        field inside the box, and the theoretical size of every stage.
        """
        try:
            return field_present.field_api(self._field(image, variant, stage, y, x))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None
