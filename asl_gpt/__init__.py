"""ASL GPT: ask questions in ASL fingerspelling, answered from a knowledge base with sources."""

__version__ = "0.1.0"
