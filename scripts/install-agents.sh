#!/usr/bin/env bash
# Install the pinned real agent CLIs into a gitignored cache (default .cache/agents).
# Re-running is cheap: it skips when the pinned versions are already there.
set -euo pipefail
dir=${1:-.cache/agents}
pins="opencode-ai@1.18.33 @anthropic-ai/claude-code@2.1.332 @zed-industries/claude-agent-acp@0.23.1"
mkdir -p "$dir"
stamp="$dir/.pins"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pins" ] && [ -d "$dir/node_modules" ]; then exit 0; fi
cd "$dir"
[ -f package.json ] || echo '{"name":"ralph-test-agents","private":true}' > package.json
npm install --no-audit --no-fund --loglevel=error $pins >/dev/null
echo "$pins" > .pins
echo "install-agents: installed $pins into $dir"
