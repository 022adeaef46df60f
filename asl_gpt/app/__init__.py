"""The Gradio app. `build_demo(services)` builds it, `launch(demo)` serves it; see asl_gpt.app.ui."""

from asl_gpt.app.ui import build_demo, launch

__all__ = ["build_demo", "launch"]
