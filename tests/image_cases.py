"""Every kind of upload a public app receives, generated in memory (no binary fixtures).

Each case is (id, filename, bytes, expectation): expectation is ("ok", check) where check
inspects the prepared RGB image and its notes, or ("error", words the message must contain).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _photo(size=(64, 48)) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def _rgba() -> bytes:
    image = Image.new("RGBA", (32, 32), (255, 0, 0, 255))
    image.paste((0, 0, 255, 0), (0, 0, 16, 32))  # left half fully transparent
    return _encode(image, "PNG")


def _palette() -> bytes:
    return _encode(_photo().convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG")


def _cmyk_jpeg() -> bytes:
    return _encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG")  # pure red in CMYK


def _sixteen_bit() -> bytes:
    ramp = np.tile(np.linspace(0, 65535, 64, dtype=np.uint16), (32, 1))
    return _encode(Image.fromarray(ramp), "PNG")


def _float_tiff() -> bytes:
    ramp = np.tile(np.linspace(-1.0, 3.0, 64, dtype=np.float32), (32, 1))
    return _encode(Image.fromarray(ramp), "TIFF")


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (24, 24), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _exif_rotated() -> bytes:
    # Stored as 40 wide x 20 high with red on the left; orientation 6 means "rotate 90° clockwise
    # to display", so the upright picture is 20 wide x 40 high with red at the top.
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(image, "JPEG", exif=exif.tobytes(), quality=95)


def _bomb() -> bytes:
    # 144 megapixels of one bit each: a few KB on disk, 432 MB once decoded to RGB.
    return _encode(Image.new("1", (12_000, 12_000)), "PNG")


def _check_size(size):
    return lambda image, notes: image.size == size


def _check_colour(xy, rgb, tolerance=12):
    return lambda image, notes: np.abs(np.asarray(image.getpixel(xy), int) - rgb).max() <= tolerance


def _check_ramp(image, notes):
    row = np.asarray(image)[8, :, 0].astype(int)
    return row[0] <= 5 and row[-1] >= 250 and np.all(np.diff(row) >= 0)


def _check_note(words):
    return lambda image, notes: any(words in note for note in notes)


def _no_notes(image, notes):
    return notes == ()


def _all(*checks):
    return lambda image, notes: all(check(image, notes) for check in checks)


_jpeg = _encode(_photo((128, 96)), "JPEG")
_png = _encode(_photo((128, 96)), "PNG")

CASES = [
    ("empty", "empty.png", b"", ("error", "empty")),
    ("text-as-jpg", "notes.jpg", b"just some text, not a picture\n" * 10, ("error", "not an image format")),
    ("zip-as-png", "archive.png", _zip(), ("error", "not an image format")),
    ("truncated-jpeg", "cut.jpg", _jpeg[: len(_jpeg) // 2], ("error", "truncated or corrupt")),
    ("truncated-png", "cut.png", _png[: len(_png) // 2], ("error", "truncated or corrupt")),
    (
        "1x1",
        "dot.png",
        _encode(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"),
        ("ok", _all(_check_size((1, 1)), _no_notes)),
    ),
    (
        "3x3",
        "tiny.png",
        _encode(Image.new("RGB", (3, 3), (10, 200, 30)), "PNG"),
        ("ok", _all(_check_size((3, 3)), _no_notes)),
    ),
    (
        "1x5000",
        "strip.png",
        _encode(Image.new("RGB", (1, 5000), (10, 200, 30)), "PNG"),
        ("ok", _all(_check_size((1, 3)), _check_note("elongated"))),
    ),
    ("bomb-144mp", "bomb.png", _bomb(), ("error", "limit is 50 megapixels")),
    (
        "grayscale-L",
        "gray.png",
        _encode(Image.new("L", (16, 16), 77), "PNG"),
        ("ok", _all(_check_colour((3, 3), (77, 77, 77), 0), _no_notes)),
    ),
    (
        "LA",
        "gray-alpha.png",
        _encode(Image.new("LA", (16, 16), (0, 0)), "PNG"),
        ("ok", _check_colour((3, 3), (255, 255, 255), 0)),
    ),
    (
        "RGBA-transparent",
        "alpha.png",
        _rgba(),
        (
            "ok",
            _all(
                _check_colour((4, 4), (255, 255, 255), 0), _check_colour((28, 4), (255, 0, 0), 0), _check_note("white")
            ),
        ),
    ),
    ("palette-P", "palette.png", _palette(), ("ok", _all(_check_size((64, 48)), _no_notes))),
    ("CMYK-jpeg", "cmyk.jpg", _cmyk_jpeg(), ("ok", _all(_check_colour((16, 16), (255, 0, 0), 20), _no_notes))),
    ("16-bit-png", "deep.png", _sixteen_bit(), ("ok", _all(_check_ramp, _no_notes))),
    ("float32-tiff", "float.tif", _float_tiff(), ("ok", _all(_check_ramp, _no_notes))),
    (
        "animated-gif",
        "anim.gif",
        _animated_gif(),
        ("ok", _all(_check_colour((5, 5), (255, 0, 0), 8), _check_note("first of its 3 frames"))),
    ),
    (
        "opaque-RGBA",
        "opaque.png",
        _encode(Image.new("RGBA", (8, 8), (9, 9, 9, 255)), "PNG"),
        ("ok", _all(_check_colour((2, 2), (9, 9, 9), 0), _no_notes)),
    ),
    (
        "exif-rotated",
        "rotated.jpg",
        _exif_rotated(),
        (
            "ok",
            _all(
                _check_size((20, 40)),
                _check_colour((10, 5), (255, 0, 0), 40),
                _check_colour((10, 35), (0, 0, 255), 40),
                _check_note("EXIF"),
            ),
        ),
    ),
]
