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
