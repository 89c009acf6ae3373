#!/bin/sh
# The demo, from a fresh Debian 12 as root:
#
#   sh scripts/demo.sh          install what is missing, build, run the demo
#                               (scripts/deps.sh, then make demo)
#   sh scripts/demo.sh --run    only run the demo container (what `make demo`
#                               calls after building); RUNTIME=runc or
#                               RUNTIME=/usr/bin/crun runs it with a peer
#
# The demo makes a busybox bundle in a temporary directory, gives it the
# hostname cell-demo and a 256 MiB memory limit, and runs a script in the
# container that shows its PID, its processes, its hostname, its namespaces
# (next to the host's) and the memory limit read back from its cgroup.
set -eu
cd "$(dirname "$0")/.."

if [ "${1:-}" != --run ]; then
    sh scripts/deps.sh
    exec make demo
fi

runtime=${RUNTIME:-build/cell-runtime}
python=/usr/bin/python3
id=cell-demo-$$
tmp=$(mktemp -d /tmp/cell-demo.XXXXXX)
bundle=$tmp/bundle
state=$tmp/state

cellroot=$tmp/cellroot
cell=$PWD/build/cell

cleanup() {
    # A run that finished has deleted its container already; this is for an
    # interrupted one. Errors are expected and ignored.
    "$runtime" --root "$state" delete --force "$id" >/dev/null 2>&1 || true
    if [ -d "$cellroot/containers" ]; then
        for c in "$cellroot"/containers/*; do
            [ -d "$c" ] && "$cell" --root "$cellroot" rm -f "${c##*/}" >/dev/null 2>&1
        done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The script run inside the container (as /demo.sh), by busybox sh as the
# container's init. Namespaces are printed twice: as `ls -l` for a person,
# and as "@ns NAME TARGET" lines for the comparison table printed afterwards.
inside='
echo "== inside the container"
echo "PID of this shell: $$ (1 means it is the init of a new PID namespace)"
echo
echo "ps (every process the container can see):"
ps_out=$(ps -o pid,user,comm)
echo "$ps_out" | while IFS= read -r l; do echo "    $l"; done
echo
echo "hostname: $(hostname)"
echo
echo "ls -l /proc/self/ns:"
ls -l /proc/self/ns | sed "s/^/    /"
for f in /proc/self/ns/*; do echo "@ns ${f##*/} $(readlink "$f")"; done
echo
if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
    file=/sys/fs/cgroup/memory/memory.limit_in_bytes
elif [ -f /sys/fs/cgroup/memory.max ]; then
    file=/sys/fs/cgroup/memory.max
else
    file=
fi
if [ -n "$file" ]; then
    limit=$(cat "$file")
    case "$limit" in
    *[!0-9]*) echo "memory limit ($file): $limit" ;;
    *) echo "memory limit ($file): $limit bytes = $((limit / 1048576)) MiB" ;;
    esac
else
    echo "memory limit: no memory cgroup file visible in the container"
fi
'

echo "== cell demo: runtime $runtime"
# Absolute, since the runtime runs from inside the bundle directory.
case "$runtime" in
/*) ;;
*/*) runtime=$PWD/$runtime ;;
*) runtime=$(command -v "$runtime") ||
    { echo "demo: runtime ${RUNTIME:-} not found in PATH" >&2; exit 1; } ;;
esac
[ -x "$runtime" ] || { echo "demo: runtime $runtime not found (run make first)" >&2; exit 1; }

echo "== making a busybox bundle in $bundle"
sh scripts/mkbundle.sh "$bundle" "$runtime" /bin/sh /demo.sh >/dev/null
printf '%s' "$inside" >"$bundle/rootfs/demo.sh"

# hostname, memory limit, and a cgroup namespace (runc 1.1's default spec
# has none) so that every namespace the demo lists is the container's own.
"$python" - "$bundle/config.json" <<'EOF'
import json, sys

path = sys.argv[1]
with open(path) as f:
    spec = json.load(f)
spec["hostname"] = "cell-demo"
linux = spec.setdefault("linux", {})
linux.setdefault("resources", {})["memory"] = {"limit": 256 * 1024 * 1024}
ns = linux.setdefault("namespaces", [])
if not any(n.get("type") == "cgroup" for n in ns):
    ns.append({"type": "cgroup"})
with open(path, "w") as f:
    json.dump(spec, f, indent=4)
EOF

echo
echo "== on the host, before the container starts"
echo "PID of this shell: $$"
echo "hostname: $(hostname)"
echo
echo "ls -l /proc/self/ns:"
ls -l /proc/self/ns | sed 's/^/    /'
host_ns=$tmp/host-ns
for f in /proc/self/ns/*; do echo "${f##*/} $(readlink "$f")"; done >"$host_ns"
echo

echo "== $runtime --root $state run $id"
echo
out=$tmp/out
rc=0
(cd "$bundle" && "$runtime" --root "$state" run "$id") </dev/null >"$out" || rc=$?
grep -v '^@ns ' "$out" || true
echo
if [ "$rc" -ne 0 ]; then
    echo "== the container failed: $runtime run exited with status $rc" >&2
    exit "$rc"
fi
echo "== the container exited with status 0"
echo

echo "== namespaces: host vs container"
sed -n 's/^@ns //p' "$out" | awk -v hostfile="$host_ns" '
    BEGIN {
        while ((getline line < hostfile) > 0) {
            split(line, f, " ")
            host[f[1]] = f[2]
        }
        printf "    %-18s %-22s %-22s %s\n", "namespace", "host", "container", ""
    }
    {
        verdict = ($2 == host[$1]) ? "shared with the host" : "its own"
        printf "    %-18s %-22s %-22s %s\n", $1, host[$1], $2, verdict
    }'

echo
echo "== the engine: the same busybox as an image, run by cell (no daemon)"
if [ ! -x "$cell" ]; then
    echo "demo: $cell not found (run make first)" >&2
    exit 1
fi
rm -f "$bundle/rootfs/demo.sh"
tar -C "$bundle/rootfs" -cf "$tmp/busybox.tar" .
run() { echo "\$ cell $*" >&2; "$cell" --root "$cellroot" "$@"; }
run import "$tmp/busybox.tar" demo/busybox >/dev/null
run run -d --name web --memory 64m --cpus 0.5 demo/busybox \
    sh -c 'trap "exit 0" TERM; echo "hello from $(hostname)"; while :; do sleep 0.2; done' >/dev/null
run ps
sleep 0.3
run logs web
run exec web sh -c 'echo "exec: pid $$ sees $(ps -o pid | wc -l) lines of ps"'
if [ -f /sys/fs/cgroup/cgroup.controllers ] && [ ! -d /sys/fs/cgroup/memory ]; then
    limits='cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max'
else
    limits='cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us'
fi
run run --rm --memory 256m --cpus 0.5 demo/busybox sh -c "$limits"
run stop web >/dev/null
run ps -a
run rm web >/dev/null
echo "== done: every container removed"

