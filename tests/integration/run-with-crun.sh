#!/bin/sh
# Runs the integration suite against crun on a cgroup v1 hybrid host.
# crun refuses hybrid hosts unless /sys/fs/cgroup/unified/cgroup.controllers
# reads empty; in a private mount namespace an empty file is bind-mounted
# over it, so the host is untouched. Arguments go to pytest; without a test
# path among them the whole suite runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
crun=${CRUN:-/usr/bin/crun}
has_path=no
for a in "$@"; do
    case "$a" in -*) ;; *) [ -e "${a%%::*}" ] && has_path=yes ;; esac
done
[ "$has_path" = yes ] || set -- "$@" "$here"
exec unshare -m --propagation private sh -c '
    empty=$(mktemp)
    if [ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then
        mount --bind "$empty" /sys/fs/cgroup/unified/cgroup.controllers
    fi
    rm -f "$empty"
    CELL_RUNTIME="$0" exec /usr/bin/python3 -m pytest "$@"
' "$crun" "$@"
