#!/usr/bin/env bash
# Install the Debian packages the test suite uses, when missing: chromium (report test),
# bubblewrap (sandboxed checks), tmux (watch test). Needs root or sudo; says what it skipped otherwise.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
    echo "install-sysdeps: not root; skipping ${need[*]} (tests needing them will say so)" >&2; exit 0; fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-sysdeps: installed ${need[*]}"
