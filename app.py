"""PoolFormer Explorer: `python app.py`, then open http://127.0.0.1:7860."""

from poolformer_demo.ui import build_demo, launch_kwargs, share_cores

demo = build_demo()

if __name__ == "__main__":
    share_cores()
    demo.launch(**launch_kwargs())
