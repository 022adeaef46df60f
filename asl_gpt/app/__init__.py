"""The Gradio app. `build_demo(services)` builds it (an `App`: the Blocks and what its handlers share),
`launch(app)` serves it; see asl_gpt.app.ui."""

from asl_gpt.app.ui import App, build_demo, launch

__all__ = ["App", "build_demo", "launch"]
