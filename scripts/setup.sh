#!/usr/bin/env bash
# Set up a fresh machine: Debian packages the tests need, one pinned pip install, pip check.
# ASL_GPT_EXTRAS: the extras to install, comma-separated (default "train,test": everything, for `make test`);
# empty for the app alone (`make app`): the runtime's packages only, at the versions of requirements.lock.
# Idempotent: re-running with nothing changed does nothing slow. The stamp records the extras installed,
# so `make app` after `make test` installs nothing and `make test` after `make app` adds the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
EXTRAS=${ASL_GPT_EXTRAS-train,test}

has_extra() { [[ ",$1," == *",$2,"* ]]; }

if has_extra "$EXTRAS" test; then
  need_apt=()
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
  if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "setup: apt-get install ${need_apt[*]} (browser tests)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
      echo "setup: warning: ${need_apt[*]} missing and not root; browser tests will skip" >&2
    fi
  fi
fi

# The accessibility engine the browser tests inject into the page (tests/test_browser_conversation.py): the npm package,
# pinned, into the ignored .node/ folder (never into the repository's files); npm from Debian when missing.
AXE_VERSION=4.14.1
if has_extra "$EXTRAS" test && ! grep -qs "\"version\": \"$AXE_VERSION\"" .node/node_modules/axe-core/package.json; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: apt-get install npm (axe-core for the browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  if command -v npm >/dev/null 2>&1; then
    echo "setup: npm install axe-core@$AXE_VERSION into .node/"
    npm install -s --prefix .node --no-save --no-package-lock --no-audit --no-fund "axe-core@$AXE_VERSION"
  else
    echo "setup: warning: npm missing; the accessibility browser test will skip" >&2
  fi
fi

stamp="$VENV/.asl-gpt-installed"  # its one line: the extras installed
installed=$(cat "$stamp" 2>/dev/null || true)
[ -f "$stamp" ] && [ ! -s "$stamp" ] && installed=train,test  # an empty stamp: the older set-up, which installed all
stale=0
[ -f "$stamp" ] && [ ! requirements.lock -nt "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ] || stale=1
want=$installed  # keep what is there: a newer lock updates it too, so that pip check holds for all of it
for e in ${EXTRAS//,/ }; do
  has_extra "$want" "$e" || { want=${want:+$want,}$e; stale=1; }
done

if [ "$stale" = 1 ]; then
  [ -x "$VENV/bin/python" ] || python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
  if [ -z "$want" ]; then
    # The lock as constraints: only what the runtime needs is installed, each at its locked version.
    echo "setup: pip install (the app alone, pinned, one command)"
    args=(-c requirements.lock -e .)
  else
    echo "setup: pip install (extras $want, pinned, one command)"
    args=(-r requirements.lock -e ".[$want]")
  fi
  # --no-compile: pip would byte-compile all ~24,000 modules of the environment (most of the install's time;
  # sympy alone: 21 s with, 3 s without); Python compiles the ones a command imports, once, on first import.
  "$VENV/bin/pip" install -q --no-compile --disable-pip-version-check "${args[@]}" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }  # pipefail: pip's failure stops here
  "$VENV/bin/pip" check
  echo "$want" >"$stamp"
fi
