#!/bin/sh
# The tests, from a fresh Debian 12 as root: install what is missing
# (scripts/deps.sh), build, and run every test: the cmocka unit tests, then
# the pytest integration tests (make check).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
exec make check
