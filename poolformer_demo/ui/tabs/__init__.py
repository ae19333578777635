"""One folder per tab: page.py (layout and handlers), view.py (what it shows, Gradio-free)."""
