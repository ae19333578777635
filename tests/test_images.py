import numpy as np
import pytest
from image_cases import CASES

from poolformer_demo import ImageInputError, prepare_image


@pytest.mark.parametrize("name, filename, data, expectation", CASES, ids=[c[0] for c in CASES])
def test_uploads_are_converted_or_refused_clearly(tmp_path, name, filename, data, expectation):
    path = tmp_path / filename
    path.write_bytes(data)
    kind, detail = expectation
    if kind == "error":
        with pytest.raises(ImageInputError, match=detail) as info:
            prepare_image(str(path))
        assert str(tmp_path) not in str(info.value)
    else:
        prepared = prepare_image(str(path))
        assert prepared.image.mode == "RGB"
        assert detail(prepared.image, prepared.notes), (prepared.image.size, prepared.notes)


def test_pixel_limit_is_configurable(tmp_path, monkeypatch):
    from PIL import Image

    path = tmp_path / "big.png"
    Image.new("RGB", (2000, 1000)).save(path)
    monkeypatch.setenv("POOLFORMER_MAX_PIXELS", "1000000")
    with pytest.raises(ImageInputError, match="2000x1000 = 2 megapixels; the limit is 1 megapixels"):
        prepare_image(str(path))


def test_missing_image_is_a_clear_error():
    with pytest.raises(ImageInputError, match="No image given"):
        prepare_image(None)


def test_float_images_in_the_unit_range_are_read_as_unit_values(tmp_path):
    from PIL import Image

    dim = np.full((8, 8), 0.25, dtype=np.float32)
    dim[0, 0] = 0.5  # no value reaches 1: stretching would turn 0.5 into white
    path = tmp_path / "dim.tif"
    Image.fromarray(dim).save(path)
    pixels = np.asarray(prepare_image(str(path)).image)
    assert pixels[1, 1].tolist() == [64, 64, 64]
    assert pixels[0, 0].tolist() == [128, 128, 128]


@pytest.mark.slow
def test_a_photo_as_8bit_grey_and_as_unit_floats_gets_the_same_top5(tmp_path, photo, cache):
    from PIL import Image

    from poolformer_demo import analyze

    grey = photo.convert("L")
    grey_path, float_path = tmp_path / "grey.png", tmp_path / "grey-float.tif"
    grey.save(grey_path)
    Image.fromarray(np.asarray(grey, dtype=np.float32) / 255.0).save(float_path)
    as_8bit = analyze(str(grey_path), "s12", cache=cache)
    as_float = analyze(str(float_path), "s12", cache=cache)
    assert [p.index for p in as_float.predictions] == [p.index for p in as_8bit.predictions]
