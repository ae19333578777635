"""PoolFormer Explorer: `python app.py`, then open http://127.0.0.1:7860."""

from poolformer_demo.ui import build_demo, launch_kwargs, limit_allocator_arenas, share_cores

demo = build_demo()

if __name__ == "__main__":
    # Process-wide settings for a server: set here, not when the app is built (tests build it too).
    share_cores()
    limit_allocator_arenas()
    demo.launch(**launch_kwargs())
