#!/usr/bin/env bash
# l2tpdump against tshark on the real captures, and its error paths on
# crafted captures (tests/tools/l2tpdump_check.py prints PASS/FAIL lines).
set -uo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/tools/l2tpdump_check.py "${BUILD_DIR:-build/gcc}/tools/l2tpdump" tests/captures
