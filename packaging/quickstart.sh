#!/usr/bin/env bash
# Quickstart, command 1: install what is missing, build, and run the default
# job end to end (train the digits MLP, seal its bundle, verify it).
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/bootstrap.sh
cmake --preset default >/dev/null
cmake --build --preset default
bundle=$(./build/keel run manifests/digits.ini)
echo
./build/keel show "$bundle"
./build/keel verify "$bundle"
echo
echo "Bundle: $bundle"
echo "Next:   ./build/keel replay $bundle"
