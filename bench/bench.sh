#!/bin/sh
# Time `RUNTIME run` of /bin/true in a busybox bundle: cell-runtime against
# crun and runc, interleaved, back to back and cold (after ~0.15 s idle).
#
#   sh bench/bench.sh [-n N] [--mode both|warm|cold] [--order shuffle|fixed]
#                     [--cell PATH]
#
# N runs per runtime and mode (default 100). Each round runs every runtime
# once, in a new random order (--order fixed: cell-runtime, crun, runc), so
# that no runtime always follows the same other one (see bench.py). Only the
# `run` command is timed. cell-runtime is --cell, else $CELL_RUNTIME, else
# build/cell-runtime; crun and runc are taken from PATH (or $CRUN, $RUNC).
# A runtime that is missing is skipped; one that fails a first, untimed run
# (a container exiting 42, so a stub cannot pass) is reported with its
# output and not timed.
#
# Everything runs in a private mount namespace in which an empty file hides
# /sys/fs/cgroup/unified/cgroup.controllers: crun 1.8 refuses a cgroup v1
# hybrid host whose cgroup2 mount lists controllers. Every runtime runs
# under the same view. Nothing is changed on the host's mounts.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "bench: must be run as root (containers need it)" >&2
    exit 1
fi

if [ "${CELL_BENCH_IN_NS:-}" != 1 ]; then
    CELL_BENCH_IN_NS=1 exec unshare -m --propagation private -- sh "$0" "$@"
fi

# Inside the private mount namespace from here on.
mount --make-rprivate /
tmp=$(mktemp -d /tmp/cell-bench.XXXXXX)
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

controllers=/sys/fs/cgroup/unified/cgroup.controllers
# (A cgroupfs file reports size 0 whatever it holds, so no -s test here.)
if [ -e "$controllers" ]; then
    : >"$tmp/empty"
    mount --bind "$tmp/empty" "$controllers"
fi

cell=${CELL_RUNTIME:-build/cell-runtime}
crun=${CRUN:-$(command -v crun || echo crun)}
runc=${RUNC:-$(command -v runc || echo runc)}
args=""
while [ $# -gt 0 ]; do
    case "$1" in
    --cell) cell=$2; shift 2 ;;
    --cell=*) cell=${1#--cell=}; shift ;;
    *) args="$args $1"; shift ;;
    esac
done

# One bundle for all, from the spec of the first runtime that writes one
# (runc's, normally): the comparison must not depend on whose defaults
# differ. bench.py adds the cgroup namespace if the spec lacks it.
bundle=$tmp/bundle
made=""
for rt in "$runc" "$crun" "$cell"; do
    if sh scripts/mkbundle.sh "$bundle" "$rt" /bin/true >/dev/null 2>&1; then
        made=$rt
        break
    fi
done
if [ -z "$made" ]; then
    echo "bench: could not make a bundle: no runtime among $runc $crun $cell writes a spec" >&2
    exit 1
fi

rc=0
# shellcheck disable=SC2086 # $args holds the remaining options, split on purpose
/usr/bin/python3 bench/bench.py --bundle "$bundle" --tmp "$tmp" --spec-from "$made" \
    --runtime "cell-runtime=$cell" --runtime "crun=$crun" --runtime "runc=$runc" $args || rc=$?
exit "$rc"
