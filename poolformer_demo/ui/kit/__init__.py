"""Pieces every tab shares: the session, bounded stores and inlined pictures, status, progress and
failure HTML, error messages, the runner's lanes, one way to expose an endpoint, and every touch
of Gradio internals (gradio_patches.py)."""
