#!/usr/bin/env bash
# The hidden AVP vectors that hidden_test.cpp checks are exactly what the
# independent Python implementation computes (nobody edited them by hand).
set -uo pipefail
cd "$(dirname "$0")/../.."
if diff <(python3 tests/shared/hidden_vectors.py) tests/shared/hidden_vectors.txt >/dev/null; then
  echo "PASS: hidden_vectors.txt is what hidden_vectors.py computes"
else
  echo "FAIL: hidden_vectors.txt differs from hidden_vectors.py output (regenerate it)"
  exit 1
fi
