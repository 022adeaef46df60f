"""`asl-gpt index [PATH...] [--rebuild]`: bring the knowledge index in line with the documents."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", help="files or folders to index (default: the knowledge folder)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args, settings) -> int:
    import json
    import sys

    from asl_gpt.rag.index import KnowledgeBase

    kb = KnowledgeBase(settings)
    try:
        s = kb.index(args.paths or None, rebuild=args.rebuild, progress=not args.no_progress and not args.json)
        stats = kb.stats()
    finally:
        kb.close()
    for path, why in s.skipped:
        print(f"warning: skipped {path}: {why}", file=sys.stderr)
    rate = s.chunks_embedded / s.embed_seconds if s.embed_seconds > 0 else 0.0
    if args.json:
        print(json.dumps({"added": s.added, "updated": s.updated, "removed": s.removed, "unchanged": s.unchanged,
                          "chunks_embedded": s.chunks_embedded, "chunks_deleted": s.chunks_deleted,
                          "chunks_total": s.chunks_total, "documents": stats.documents,
                          "skipped": [{"path": p, "reason": r} for p, r in s.skipped],
                          "seconds": round(s.seconds, 2), "embed_seconds": round(s.embed_seconds, 2), "location": stats.location}, indent=1))
        return 0
    print(f"added {s.added}, updated {s.updated}, removed {s.removed}, unchanged {s.unchanged} files"
          + (f", skipped {len(s.skipped)}" if s.skipped else ""))
    print(f"embedded {s.chunks_embedded} chunks, deleted {s.chunks_deleted}, in {s.seconds:.1f} s"
          + (f" ({rate:.1f} chunks/s)" if s.chunks_embedded else ""))
    print(f"index: {stats.documents} documents, {stats.chunks} chunks in {stats.location}")
    return 0
