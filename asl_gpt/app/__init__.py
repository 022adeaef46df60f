"""The Gradio app. `build_demo(services)` builds it (an `App`: the Blocks and what its handlers share),
`launch(app)` serves it; see asl_gpt.app.ui."""

__all__ = ["App", "build_demo", "launch"]


def __getattr__(name: str):
    # Lazily: the camera path (asl_gpt.app.live, .camera) imports this package, and must not load the page's
    # modules (the chat loads LangChain).
    if name in __all__:
        from asl_gpt.app import ui

        return getattr(ui, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
