"""Pieces every tab shares: the session, bounded stores and inlined pictures, status, progress and
failure HTML, error messages, background runs, and the few touches of Gradio internals."""
