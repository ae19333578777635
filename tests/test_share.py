"""Shareable views: what a link's query restores, and what a link made from a session carries."""

from __future__ import annotations

from poolformer_demo.ui.kit.pictures import image_key
from poolformer_demo.ui.kit.view import Session
from poolformer_demo.ui.share import UPLOAD_NOTE, link_query, parse_query
from poolformer_demo.ui.tabs.explore.page import EXAMPLES_DIR

EXAMPLES = {"shapes_star.png", "chelsea.jpg"}


def session_for(path, variant="shapes") -> Session:
    return Session(image=str(path), image_key=image_key(path), variant=variant, labels=("a", "b"), target=0)


def test_a_link_restores_every_part_it_names():
    query = {
        "example": "shapes_star.png",
        "model": "shapes",
        "tab": "inside",
        "step": "4",
        "stage": "2",
        "block": "1",
        "mixer_off": "1,3",
        "mlp_off": "4",
        "method": "layercam",
        "controls": "hidden",
        "present": "on",
    }
    assert parse_query(query, EXAMPLES) == {
        "example": "shapes_star.png",
        "model": "shapes",
        "tab": "inside",
        "step": 4,
        "stage": 2,
        "block": 1,
        "mixer_off": ["1", "3"],
        "mlp_off": ["4"],
        "method": "layercam",
        "controls": "hidden",
        "present": True,
    }


def test_unknown_or_malformed_parts_of_a_link_are_dropped():
    query = {
        "example": "../../etc/passwd",
        "model": "vit",
        "tab": "x",
        "stage": "9",
        "mixer_off": "0,a,7",
        "step": "-1",
    }
    assert parse_query(query, EXAMPLES) == {}


def test_a_link_names_a_bundled_example_by_its_content(tmp_path):
    copy = tmp_path / "renamed.png"
    copy.write_bytes((EXAMPLES_DIR / "shapes_star.png").read_bytes())
    query, note = link_query(session_for(copy), EXAMPLES_DIR, step=3, stage=1, block=1, mixer_off=["2", "1"])
    assert query == "example=shapes_star.png&model=shapes&step=3&stage=1&block=1&mixer_off=1,2"
    assert UPLOAD_NOTE not in note


def test_an_uploaded_image_is_never_put_in_a_link_and_the_page_says_so(tmp_path):
    upload = tmp_path / "mine.png"
    upload.write_bytes(b"not an example")
    query, note = link_query(session_for(upload, "s12"), EXAMPLES_DIR)
    assert query == "model=s12" and UPLOAD_NOTE in note
