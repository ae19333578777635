"""Every place this app reaches into Gradio's internals, each with the reason it must: two component
patches, the event after an example is loaded, and the CSS and script that reach Gradio's own markup
(the app's own markup, the pf- classes, is styled and scripted by static/style.css and page.js).

Endpoints that take an image stay the click events of hidden buttons (kit/endpoints.py) rather than
`gr.api`: `gr.api` runs with preprocessing off and an untyped `Api`
component, so an uploaded file reaches the handler as a FileData dict instead of a path, and the
API page and the MCP server no longer describe that input as a file to upload (an MCP client
could not send an image by URL).
"""

from __future__ import annotations

import gradio as gr
from gradio.events import Dependency


def hand_over_undecoded(component: gr.Image) -> gr.Image:
    """Make an image input pass the uploaded file to the core undecoded.

    gr.Image opens every upload with PIL before any handler runs, so a text file, a truncated
    PNG or a decompression bomb would fail there with a bare "Error". Passing the path on lets
    the core's decoder, with its pixel limit and specific messages, be the only one that reads
    it; Gradio has already checked that the path lies in its upload folder. (The component is
    patched rather than subclassed because Gradio writes a .pyi stub beside any module that
    subclasses a component.)
    """
    decode = component.preprocess

    def preprocess(payload):
        if payload is None or payload.path is None or (payload.url or "").startswith("data:"):
            return decode(payload)
        return str(payload.path)

    component.preprocess = preprocess
    return component


def accept_any_text(component: gr.Dropdown, description: str) -> gr.Dropdown:
    """Describe a dropdown to API clients as free text.

    A dropdown whose choices are filled per request would be described to programs as an enum of
    the choices it had when the app was built (none); `allow_custom_value` accepts any text, but
    Gradio has no public switch for what its API page says, so the component's `api_info` is replaced.
    """
    component.api_info = lambda: {"type": "string", "description": description}
    return component


def after_example_loads(examples: gr.Examples) -> Dependency:
    """The event that puts a clicked example into its input, for handlers to follow with `.then`.

    gr.Examples has no public event for "an example is now in the input": its `fn` runs only with
    the examples' own inputs, and a handler on its dataset's click would race the loading. Gradio's
    own `run_on_click` follows this same event.
    """
    return examples.load_input_event


# CSS on Gradio's own markup. Gradio's classes are not an interface and may change between
# versions; each rule says why the app needs it.
GRADIO_CSS = """
/* fill_width spreads the page over a wide screen; lines of text read better at most this wide. */
.gradio-container { max-width: 1480px !important; margin: 0 auto !important; }
/* A phone (390 px): Gradio's rows stack instead of squeezing text beside a control; code lines in
   Markdown wrap rather than widening the page; Markdown tables scroll sideways in their own box. */
@media (max-width: 640px) {
  .row { flex-wrap: wrap; }
  .row > .block, .row > .column, .row > .form { flex: 1 1 100% !important; min-width: min(100%, 220px) !important; }
  .prose pre, .prose pre code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .prose table { display: block; max-width: 100%; overflow-x: auto; }
}
/* A right-to-left page (Arabic): Gradio writes dir="ltr" on every component's box unless the component
   has an rtl setting, which gr.HTML does not; the page's direction wins, and what must stay left to
   right (pictures side by side, a before/after slider, code, formulas) says so with its own dir. */
:root[dir="rtl"] .block { direction: rtl; }
/* Gradio places a menu's arrow and a box's copy button at the right edge; mirrored, they move left, where
   a right-to-left box's text ends. */
:root[dir="rtl"] .block .icon-wrap { right: auto; left: 20px; }
:root[dir="rtl"] .block .icon-button-wrapper.top-panel { right: auto; left: 6px; }
/* A link with hidden controls shows results, not how the page was built. */
:root[data-pf-controls="hidden"] footer { display: none !important; }
"""

# Names for the controls Gradio draws without one (axe-core counts each as a serious violation).
# Gradio re-renders its components, so this runs again whenever the page changes.
GRADIO_JS = """
(() => {
  const fileTitle = (src) => decodeURIComponent((src || "").split("?")[0].split("/").pop() || "")
    .replace(/\\.[a-z0-9]+$/i, "").replace(/[_-]+/g, " ");
  const name = () => {
    // Example thumbnails are buttons holding only a picture.
    // In the page's language (page.js keeps its words), said again after a switch.
    const words = (window.PoolFormer && PoolFormer.words.example) || "Example image: {name}";
    document.querySelectorAll("button.gallery-item").forEach((button) => {
      const img = button.querySelector("img");
      if (!img) return;
      const label = words.replace("{name}", fileTitle(img.getAttribute("src")));
      if (button.getAttribute("aria-label") !== label) button.setAttribute("aria-label", label);
      if (img.getAttribute("alt") !== "") img.setAttribute("alt", "");
    });
    // An empty upload area's spoken name must contain the words it shows.
    document.querySelectorAll("button.upload-container[aria-label]").forEach((button) => {
      const shown = button.innerText.replace(/\\s+/g, " ").trim();
      if (shown) button.removeAttribute("aria-label");
    });
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; name(); });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
"""
