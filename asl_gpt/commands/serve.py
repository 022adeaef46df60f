"""`asl-gpt serve [--host H] [--port P] [--auth USER:PASSWORD | --auth-file FILE] [--insecure]`: the Gradio app
(the same as `python app.py`).

On this machine only (the default, 127.0.0.1) the app needs no login. Any other address shows it to
the network: documents, uploads, the chat and the camera socket. Then it starts only with a login
(Gradio's auth) or when the user says `--insecure` explicitly.
"""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path

from asl_gpt.errors import InputError

# Any upload (documents and videos) larger than this is refused by Gradio before it reaches the disk.
# Documents have their own, smaller limit (rag.max_upload_mb), checked with a message per file.
MAX_UPLOAD_BYTES = "500mb"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; "
                        "any other needs --auth or --insecure)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--auth", action="append", metavar="USER:PASSWORD", default=[],
                   help="require this login (repeat for more users); other users of this machine can see it: "
                        "prefer --auth-file")
    p.add_argument("--auth-file", metavar="FILE", help="logins, one USER:PASSWORD per line (# comments allowed)")
    p.add_argument("--insecure", action="store_true",
                   help="serve on a network address without a login (anyone who can reach it can use the app)")
    p.add_argument("--no-initial-index", action="store_true",
                   help="do not index the knowledge folder when the index is empty")


def is_local(host: str) -> bool:
    """Whether `host` is reachable from this machine only (a loopback address or `localhost`)."""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def parse_logins(pairs: list[str], auth_file: str | None = None) -> list[tuple[str, str]]:
    """USER:PASSWORD pairs from the command line and the file; InputError (one line) for a bad one."""
    lines = [(f"--auth {p.split(':', 1)[0]}:…", p) for p in pairs]
    if auth_file:
        try:
            text = Path(auth_file).read_text(encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot read --auth-file {auth_file}: {e.strerror or e}") from e
        lines += [(f"{auth_file} line {i}", s.strip()) for i, s in enumerate(text.splitlines(), 1)
                  if s.strip() and not s.lstrip().startswith("#")]
    logins = []
    for where, pair in lines:
        user, sep, password = pair.partition(":")
        if not sep or not user.strip() or not password:
            raise InputError(f"{where}: a login is USER:PASSWORD with both parts non-empty")
        logins.append((user.strip(), password))
    return logins


def check_exposure(host: str, logins: list, insecure: bool) -> None:
    """Refuse to serve a network address without a login unless the user said --insecure."""
    if not is_local(host) and not logins and not insecure:
        raise InputError(f"--host {host} shows the app to the network: add --auth USER:PASSWORD (or --auth-file "
                         "FILE) to require a login, or --insecure to serve it without one")


def run(args, settings) -> int:
    logins = parse_logins(args.auth, args.auth_file)
    check_exposure(args.host, logins, args.insecure)  # before anything heavy starts

    from asl_gpt.app import build_demo, launch
    from asl_gpt.app.services import build_services

    services = build_services(settings)
    app = build_demo(services, initial_index=not args.no_initial_index)
    if not is_local(args.host):
        print("warning: " + ("login required; plain http sends it unencrypted, so serve it behind https on an "
                             "untrusted network" if logins else "--insecure: anyone who can reach this address "
                             "can use the app, its documents and uploads"), flush=True)
    print(f"ASL GPT on http://{args.host}:{args.port} (Ctrl+C stops it)", flush=True)
    try:
        launch(app, host=args.host, port=args.port, quiet=True, auth=logins or None,
               max_file_size=MAX_UPLOAD_BYTES)
    finally:
        app.registry.close()
        services.close()
    return 0
