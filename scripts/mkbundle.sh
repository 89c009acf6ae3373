#!/bin/sh
# Make an OCI bundle from Debian's busybox-static.
#
#   scripts/mkbundle.sh DIR [RUNTIME [ARG...]]
#
# DIR/rootfs gets /bin/busybox and a symlink for each of its applets (made
# here from `busybox --list-full`; nothing is run inside the rootfs), a
# minimal /etc/passwd and /etc/group, and empty proc, sys, dev, tmp and root
# directories. DIR/config.json is the default spec that `RUNTIME spec` writes
# (RUNTIME defaults to build/cell-runtime; runc and crun work too), edited:
# root is "rootfs" (read-only, busybox needs nothing writable),
# process.terminal is false, and process.args are the ARGs when given (the
# spec's own args, usually "sh", otherwise). DIR is created if absent; an
# existing rootfs and config.json in it are replaced.
set -eu

usage() {
    echo "usage: $0 DIR [RUNTIME [ARG...]]" >&2
    exit 2
}
die() {
    echo "mkbundle: $*" >&2
    exit 1
}

[ $# -ge 1 ] || usage
case "$1" in -h | --help) usage ;; esac
dir=$1
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
runtime=${1:-$repo/build/cell-runtime}
[ $# -ge 1 ] && shift

busybox=/bin/busybox
python=/usr/bin/python3
[ -x "$busybox" ] || die "$busybox not found: install busybox-static (sh scripts/deps.sh)"
[ -x "$python" ] || die "$python not found: install python3 (sh scripts/deps.sh)"

# A runtime given as a relative path (build/cell-runtime) must still resolve
# after the cd into the bundle below.
case "$runtime" in
*/*) runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime") ;;
*) runtime=$(command -v "$runtime" || die "runtime $runtime not found in PATH") || exit 1 ;;
esac
[ -x "$runtime" ] || die "runtime $runtime not found or not executable (build it with make)"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rootfs=$dir/rootfs
rm -rf "$rootfs" "$dir/config.json"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" \
    "$rootfs/tmp" "$rootfs/root"
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"

# One symlink per applet, at the path busybox itself lists (bin/ls,
# usr/bin/awk, sbin/ip, ...). Absolute targets resolve inside the container.
# (A python loop: one ln process per applet would take most of a second.)
"$busybox" --list-full | "$python" -c '
import os, sys
rootfs = sys.argv[1]
for applet in sys.stdin.read().split():
    if "/" not in applet or applet == "bin/busybox":
        continue  # linuxrc: not wanted at the top of the rootfs
    link = os.path.join(rootfs, applet)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("/bin/busybox", link)
' "$rootfs"
[ -L "$rootfs/bin/sh" ] || die "busybox --list-full gave no bin/sh"

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF

# runc, crun and cell-runtime all write config.json into the current
# directory; runc refuses to overwrite one, hence the rm above.
(cd "$dir" && "$runtime" spec >/dev/null) ||
    die "$runtime spec failed"
[ -s "$dir/config.json" ] || die "$runtime spec wrote no $dir/config.json"

"$python" - "$dir/config.json" "$@" <<'EOF'
import json, sys

path, args = sys.argv[1], sys.argv[2:]
with open(path) as f:
    spec = json.load(f)
root = spec.setdefault("root", {})
root["path"] = "rootfs"
root["readonly"] = True
proc = spec.setdefault("process", {})
proc["terminal"] = False
proc.pop("consoleSize", None)
if args:
    proc["args"] = args
proc.setdefault("cwd", "/")
proc.setdefault("user", {"uid": 0, "gid": 0})
env = proc.setdefault("env", [])
if not any(e.startswith("PATH=") for e in env):
    env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
with open(path + ".tmp", "w") as f:
    json.dump(spec, f, indent=4)
    f.write("\n")
EOF
mv "$dir/config.json.tmp" "$dir/config.json"
echo "mkbundle: $dir (rootfs: busybox, config.json from $(basename "$runtime") spec)"
