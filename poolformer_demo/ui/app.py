"""The whole app: the tabs in one Blocks, the queue, and how it is served."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import gradio as gr
import torch

from .. import i18n
from ..analysis import analyze
from ..runner import Runner
from ..weights import ModelCache, cache_from_environment
from .kit.gradio_patches import GRADIO_CSS, GRADIO_JS
from .kit.language import LanguageSection
from .kit.runs import EXPLORE, LONG, MODEL, app_runner
from .share import TABS, ShareSection
from .tabs.compare.page import CompareTab
from .tabs.explain.page import ExplainTab
from .tabs.explore.page import EXAMPLES_DIR, ExploreTab
from .tabs.inside.page import InsideTab
from .tabs.learn import page as learn
from .tabs.lesson.page import LessonTab

TITLE = i18n.english().text("app.title")
STYLE = Path(__file__).with_name("static") / "style.css"
SCRIPT = Path(__file__).with_name("static") / "page.js"

CONCURRENCY_ENV = "POOLFORMER_CONCURRENCY"
# Uploads larger than this are refused by the server before any handler runs.
MAX_FILE_SIZE = "20mb"
QUEUE_MAX_SIZE = 64
# Gradio's copies of uploads and rendered images: swept hourly, removed after an hour.
DELETE_CACHE = (3600, 3600)
# Each session keeps one Analysis (a few MB); this bounds the memory all sessions can hold.
STATE_SESSION_CAPACITY = 200
# Explore handlers at once: most answer from the store in milliseconds; the few that must compute
# wait for one of the runner's `concurrency` Explore workers inside the handler, not in the queue
# behind others.
EXPLORE_LANE_LIMIT = 8


def concurrency_from_environment() -> int:
    # Two CPU cores: two analyses at a time keep both busy; more would only make each one slower.
    return int(os.environ.get(CONCURRENCY_ENV, "2"))


def share_cores(concurrency: int | None = None) -> None:
    """Give each of the computations that may run at once, outside a `control.cores` lease, its
    share of the CPU cores.

    torch's default uses every core for each operation; with two analyses at once on two cores
    that makes four busy threads on two cores, each analysis waiting on the other's threads.
    Computations that hold a lease (explanations, sanity checks, Explore's analyses) set their own
    thread's count from how many run at once, so one alone uses every core. The default is
    process-wide, so the server's entry point calls this, not `build_demo`.
    """
    concurrency = concurrency if concurrency is not None else concurrency_from_environment()
    cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores // max(1, concurrency)))


def limit_allocator_arenas(arenas: int = 2) -> None:
    """Let glibc's allocator keep at most `arenas` arenas, as MALLOC_ARENA_MAX would.

    glibc gives threads that allocate at the same time arenas of their own (up to eight per core)
    and keeps each one at its peak: a burst of uploads and analyses on many threads then leaves
    the server hundreds of MB larger after every burst. With two, a burst's memory is reused by
    the next. Elsewhere than glibc this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_arena_max = -8  # from glibc's malloc.h
    libc.mallopt(m_arena_max, arenas)


def build_demo(
    cache: ModelCache | None = None,
    concurrency: int | None = None,
    examples_dir: Path = EXAMPLES_DIR,
    shapes_available: bool | None = None,
    analyze=analyze,
    runner: Runner | None = None,
) -> gr.Blocks:
    """The app, with its queue configured. Launch it with `demo.launch(**launch_kwargs())`.

    Settings left as None are read from the environment now, when the app is built. `analyze`
    is the analysis entry point Explore's handlers call (tests pass one that records its calls);
    `runner` runs every computation (by default one with the app's lanes, `kit.runs`).
    """
    cache = cache if cache is not None else cache_from_environment()
    concurrency = concurrency if concurrency is not None else concurrency_from_environment()
    runner = runner if runner is not None else app_runner(concurrency)
    explore = ExploreTab(cache, runner, examples_dir=examples_dir, shapes_available=shapes_available, analyze=analyze)
    explain = ExplainTab(cache, runner)
    compare = CompareTab(cache, runner)
    inside = InsideTab(cache, runner)
    lesson = LessonTab(cache, runner, examples_dir)
    # The queue's lanes match the runner's, so a short answer never queues behind a long one:
    # Explore (mostly stored answers), the long explanations (seconds to minutes each), and the
    # other model events; the lab has its own (inside/lab_page.py).
    model_events = {"concurrency_id": MODEL, "concurrency_limit": concurrency}
    explore_events = {"concurrency_id": EXPLORE, "concurrency_limit": max(EXPLORE_LANE_LIMIT, concurrency)}
    long_events = {"concurrency_id": LONG, "concurrency_limit": concurrency}

    # analytics_enabled=False: no usage reports or version checks leave the server.
    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE, fill_width=True, analytics_enabled=False) as demo:
        language = LanguageSection()
        words = language.words
        with gr.Row(elem_id="app-header-row", equal_height=False):
            words(gr.Markdown(elem_id="app-header"), value="app.header")
            language.render()
        journey = learn.journey_panel(words)
        # Each tab's render returns what the rest of the page reads (its parts); nothing is read from
        # a tab before it is rendered.
        with gr.Tabs(overflow_behavior="wrap", elem_id="tabs") as tabs:
            with words(gr.Tab(id="explore"), label="tab.explore") as explore_tab:
                explore_parts = explore.render(explore_events, journey, language)
            session = explore_parts.session
            with words(gr.Tab(id="lesson"), label="tab.lesson") as lesson_tab:
                lesson_parts = lesson.render(model_events, session, language)
            with words(gr.Tab(id="explain"), label="tab.explain") as explain_tab:
                explain_parts = explain.render(model_events, session, language, explain_tab, long_events=long_events)
            with words(gr.Tab(id="compare"), label="tab.compare") as compare_tab:
                compare_parts = compare.render(model_events, session, language)
            with words(gr.Tab(id="inside"), label="tab.inside") as inside_tab:
                inside_parts = inside.render(model_events, session, language)
            with words(gr.Tab(id="learn"), label="tab.learn") as learn_tab:
                learn.render(journey, words)

        # The lesson measures its step when it is opened, on the image analysed last.
        lesson_tab.select(**lesson_parts.show_event)
        # Below the tabs, so the first screen of every tab stays as it was.
        share = ShareSection(examples_dir, explore)
        share_parts = share.render(language)
        for parts in (explore_parts, lesson_parts, explain_parts, compare_parts, inside_parts):
            language.add(parts.retelling)
        opened = language.wire(demo)
        share.wire(
            opened,
            tabs,
            dict(zip(TABS, (explore_tab, lesson_tab, explain_tab, compare_tab, inside_tab, learn_tab), strict=True)),
            share_parts,
            {
                "explore": explore_parts,
                "lesson": lesson_parts,
                "explain": explain_parts,
                "inside": inside_parts,
                "compare": compare_parts,
            },
            language,
        )

    demo.queue(default_concurrency_limit=concurrency, max_size=QUEUE_MAX_SIZE)
    return demo


def _theme():
    # System fonts: the page needs nothing from outside the server.
    theme = gr.themes.Soft(
        primary_hue="indigo",
        secondary_hue="sky",
        neutral_hue="slate",
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )
    # Soft's labels, links, hints and filled buttons fall below WCAG AA contrast (4.5:1) on its own
    # backgrounds; one shade or two darker passes, here once for every tab.
    return theme.set(
        body_text_color_subdued="*neutral_600",
        block_info_text_color="*neutral_600",
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        link_text_color="*primary_700",
        link_text_color_hover="*primary_800",
        link_text_color_visited="*primary_800",
        link_text_color_active="*primary_800",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_600",
        checkbox_label_background_fill_selected="*primary_700",
        color_accent="*primary_700",
        slider_color="*primary_700",
    )


def launch_kwargs(**overrides) -> dict:
    """How the app is served; app.py and the tests both launch with these."""
    kwargs = {
        # Local by default; Spaces and containers set GRADIO_SERVER_NAME=0.0.0.0.
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ["GRADIO_SERVER_PORT"]) if os.environ.get("GRADIO_SERVER_PORT") else None,
        "max_file_size": MAX_FILE_SIZE,
        # Example files become component values and are served from Gradio's cache; nothing else is.
        "allowed_paths": [],
        "state_session_capacity": STATE_SESSION_CAPACITY,
        "show_error": False,
        "enable_monitoring": False,
        "theme": _theme(),
        "css": STYLE.read_text(encoding="utf-8") + GRADIO_CSS,
        "head": f"<script>{SCRIPT.read_text(encoding='utf-8')}{GRADIO_JS}</script>",
    }
    kwargs.update(overrides)
    return kwargs
