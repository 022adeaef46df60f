"""Knowledge base and cited answers (public API documented here once complete)."""
