"""Shareable views: what a link's query restores, and what a link made from a session carries."""

from __future__ import annotations

from pages import skipped
from paths import EXAMPLES, STAR

from poolformer_demo.i18n import english
from poolformer_demo.ui.kit.pictures import image_key
from poolformer_demo.ui.kit.view import Session
from poolformer_demo.ui.share import LINKED_VIEWS, link_query, parse_query, when_linked

UPLOAD_NOTE = english().text("share.upload_note")
EXAMPLE_NAMES = {"shapes_star.png", "chelsea.jpg"}


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
    assert parse_query(query, EXAMPLE_NAMES) == {
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
    assert parse_query(query, EXAMPLE_NAMES) == {}


def test_a_link_names_a_bundled_example_by_its_content(tmp_path):
    copy = tmp_path / "renamed.png"
    copy.write_bytes(STAR.read_bytes())
    query, note = link_query(session_for(copy), EXAMPLES, step=3, stage=1, block=1, mixer_off=["2", "1"])
    assert query == "example=shapes_star.png&model=shapes&step=3&stage=1&block=1&mixer_off=1,2"
    assert UPLOAD_NOTE not in note


def test_an_uploaded_image_is_never_put_in_a_link_and_the_page_says_so(tmp_path):
    upload = tmp_path / "mine.png"
    upload.write_bytes(b"not an example")
    query, note = link_query(session_for(upload, "s12"), EXAMPLES)
    assert query == "model=s12" and UPLOAD_NOTE in note


def test_a_link_carries_the_open_tab_presenter_mode_and_hidden_controls_and_reads_back_the_same(tmp_path):
    session = session_for(STAR)
    query, _ = link_query(session, EXAMPLES, step=8, method="layercam", tab="lesson", present=True, hide=True)
    assert query == "example=shapes_star.png&model=shapes&tab=lesson&step=8&method=layercam&present=on&controls=hidden"
    state = parse_query(dict(part.split("=") for part in query.split("&")), EXAMPLE_NAMES)
    assert state["tab"] == "lesson" and state["present"] and state["controls"] == "hidden"
    # A tab the page does not have is left out rather than passed on.
    assert "tab=" not in link_query(session, EXAMPLES, tab="nowhere")[0]


def test_a_link_runs_the_views_it_names_once_its_image_is_analysed_and_leaves_the_others():
    calls = []

    def show(session, stage, block):
        calls.append((session, stage, block))
        return "status", "view"

    anatomy = when_linked(LINKED_VIEWS["anatomy"], show, 2)
    assert anatomy.__name__ == "linked_show"
    assert anatomy({"tab": "inside"}, "session", 2, 1) == ("status", "view")
    assert anatomy({"stage": 3}, "session", 3, 1) == ("status", "view")
    assert calls == [("session", 2, 1), ("session", 3, 1)]
    for state, session in (({"tab": "lesson"}, "session"), (None, "session"), ({"tab": "inside"}, None)):
        assert [skipped(v) for v in anatomy(state, session, 1, 1)] == [True, True]
    assert len(calls) == 2
    # A knockout runs only when the link ticks something; a lesson step runs without an analysis.
    assert LINKED_VIEWS["knockout"]({"mlp_off": ["4"]}) and not LINKED_VIEWS["knockout"]({"tab": "inside"})
    step = when_linked(LINKED_VIEWS["lesson"], lambda session, number: number, 1, needs_session=False)
    assert step({"step": 4}, None, 4) == 4


def test_a_linked_generator_is_followed_to_its_end():
    def follow(session):
        yield "running"
        yield "done"

    linked = when_linked(LINKED_VIEWS["cams"], follow, 1)
    assert list(linked({"method": "layercam"}, "session")) == ["running", "done"]
    (skips,) = linked({"tab": "explore"}, "session")
    assert [skipped(v) for v in skips] == [True]


def test_a_link_carries_the_pages_language_and_says_it_was_copied_in_it():
    query, note = link_query(None, EXAMPLES, tab="lesson", lang="en")
    assert query == "tab=lesson&lang=en" and note == english().text("share.copied")
    unknown, _ = link_query(None, EXAMPLES, tab="lesson", lang="xx")
    assert unknown.endswith("lang=en")
