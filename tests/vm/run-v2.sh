#!/bin/bash
# tests/vm/run-v2.sh — run one command on a real kernel with a PURE cgroup v2
# layout, whatever the host has (this repo's machines are v1 hybrid).
#
#   tests/vm/run-v2.sh [options] [--] COMMAND [ARG...]
#
# Boots Debian's standard kernel (/boot/vmlinuz-*, not -cloud) under
# qemu-system-x86_64 with TCG (no KVM, no network device), from an initramfs
# built here into a temporary directory: busybox-static as /init plus the 9p,
# virtio and overlay modules. The host's / is shared read-only over virtio-9p
# and becomes the guest's root, so every host path (this repo, /usr/bin/python3,
# build/cell-runtime) is at the same place in the guest. Writable in the guest
# and lost at power-off: /tmp and /var/tmp on an ext4 scratch disk (a sparse
# file here, as a real host's disk: tmpfs before 6.6 has no user xattrs, and
# no suid restriction applies), /run and /dev/shm on tmpfs (and the whole
# root with --overlay). /sys/fs/cgroup is a cgroup2 mount and nothing else,
# with every controller enabled in the root's cgroup.subtree_control (as
# systemd does).
#
# COMMAND runs as root with the host root as its real root (switch_root, so
# user namespaces and pivot_root work), a child of PID 1 (a busybox sh, which
# reaps orphans), in the same working directory (else /), stdin /dev/null,
# with a fixed environment (PATH, HOME=/root, LANG=C.UTF-8, TERM=dumb,
# PYTHONDONTWRITEBYTECODE=1, and PYTEST_ADDOPTS="-p no:cacheprovider" unless
# --overlay: the repo is read-only) plus -e variables. Its stdout goes to this
# script's stdout and its stderr to this script's stderr (two serial ports;
# one port, in order, when this script's stdout and stderr are the same file,
# pipe or terminal, as with 2>&1), and its exit status is this script's.
#
# Options:
#   -t, --timeout SECS   hard limit for the whole VM run (default $CELL_VM_TIMEOUT
#                        or 600; 0: none); on expiry qemu is killed and the
#                        status is 124
#   -C, --cwd DIR        working directory in the guest (default: $PWD; a
#                        directory under /tmp, /var/tmp or /run is not there)
#   -e, --env NAME[=VAL] set NAME in the command's environment (NAME alone:
#                        the host's value)
#   --overlay            make the whole guest root writable (an overlay with a
#                        tmpfs upper over the 9p root); writes are discarded
#   --cgroup PATH        run the command in /sys/fs/cgroup/PATH instead of the
#                        root cgroup (like a systemd scope: e.g. init.scope)
#   --systemd            PID 1 after switch_root is Debian's systemd, which runs
#                        the command as the service cell-vm.service (nothing
#                        else is started: no journald, udev, network, getty)
#   -v, --verbose        same as VERBOSE=1
#   -h, --help
#
# Environment: VERBOSE=1 (kernel messages at loglevel 7, init's progress and
# qemu's own messages on stderr, plus timings), CELL_VM_TIMEOUT, CELL_VM_KERNEL
# (a vmlinuz; its modules must be in /lib/modules/<version>), CELL_VM_MEM (2G),
# CELL_VM_DISK (16G, the sparse scratch disk), CELL_VM_SMP (2), CELL_VM_9P_CACHE (loose; or mmap, none), CELL_VM_QEMU_ARGS
# (extra qemu arguments, split on spaces), CELL_VM_SYSTEMD_ARGS (extra
# arguments for systemd with --systemd, split on spaces), CELL_VM_KEEP=1 (keep the temporary
# directory and print its path), CELL_VM_MERGE (1: the command's stderr
# joins its stdout in the guest; 0: never; default: when they are the same
# file here).
#
# Exit status: the command's; 124 on timeout; 125 when the VM could not be
# started or set up (the console log is printed on stderr).

set -u

prog=${0##*/}
usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; }
die() { echo "$prog: $*" >&2; exit 125; }

timeout_s=${CELL_VM_TIMEOUT:-600}
cwd=$PWD
verbose=${VERBOSE:-0}
[ "$verbose" = 0 ] && verbose=
overlay=
cgroup=
systemd=
envs=()
while [ $# -gt 0 ]; do
	case $1 in
	-t|--timeout) [ $# -ge 2 ] || die "$1 needs a value"; timeout_s=$2; shift 2 ;;
	--timeout=*) timeout_s=${1#*=}; shift ;;
	-C|--cwd) [ $# -ge 2 ] || die "$1 needs a value"; cwd=$2; shift 2 ;;
	-e|--env) [ $# -ge 2 ] || die "$1 needs a value"
		case $2 in
		*=*) envs+=("$2") ;;
		*) [ -n "${!2+x}" ] && envs+=("$2=${!2}") ;;
		esac
		shift 2 ;;
	--overlay) overlay=1; shift ;;
	--cgroup) [ $# -ge 2 ] || die "$1 needs a value"; cgroup=${2#/}; shift 2 ;;
	--systemd) systemd=1; shift ;;
	-v|--verbose) verbose=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { usage >&2; exit 125; }
[ -z "$systemd" ] || [ -x /lib/systemd/systemd ] || die "--systemd: no /lib/systemd/systemd (apt-get install systemd)"
[ -z "$systemd" ] || [ -z "$cgroup" ] || die "--systemd and --cgroup: systemd picks the cgroup"
case $timeout_s in ''|*[!0-9]*) die "bad timeout: $timeout_s" ;; esac
for e in ${envs[@]+"${envs[@]}"}; do
	case ${e%%=*} in ''|[0-9]*|*[!A-Za-z0-9_]*) die "bad variable name in -e $e" ;; esac
done

# --- kernel and modules --------------------------------------------------
kernel=${CELL_VM_KERNEL:-}
if [ -z "$kernel" ]; then
	for k in /boot/vmlinuz-*; do
		case $k in *-cloud-*) continue ;; esac
		[ -d "/lib/modules/${k#/boot/vmlinuz-}" ] && kernel=$k
	done
	[ -n "$kernel" ] || die "no /boot/vmlinuz-* with modules in /lib/modules (apt-get install linux-image-amd64)"
fi
[ -r "$kernel" ] || die "cannot read kernel $kernel"
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[ -r "$moddir/modules.dep" ] || die "no $moddir/modules.dep for kernel $kernel"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
# A static busybox has no PT_INTERP program header (no dynamic loader):
# ask the ELF itself, as neither `file` nor a string search is reliable.
is_static_elf() {
	/usr/bin/python3 - "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    h = f.read(64)
    if h[:4] != b"\x7fELF" or h[4] != 2:
        sys.exit(1)
    phoff, = struct.unpack_from("<Q", h, 32)
    phentsize, phnum = struct.unpack_from("<HH", h, 54)
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        if struct.unpack("<I", f.read(4))[0] == 3:  # PT_INTERP
            sys.exit(1)
PY
}
busybox=
for b in /bin/busybox /usr/bin/busybox; do
	[ -x "$b" ] && is_static_elf "$b" && { busybox=$b; break; }
done
[ -n "$busybox" ] || die "no static busybox (apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cell-vm.XXXXXX") || die "mktemp failed"
qpid=''
pids=()
cleanup() {
	[ -n "$qpid" ] && kill -TERM "$qpid" 2>/dev/null
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null; done
	if [ -n "${CELL_VM_KEEP:-}" ]; then echo "$prog: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'echo "$prog: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM HUP

# The kernel qemu boots: the ELF vmlinux inside the bzImage, started through
# its PVH entry point, because decompressing the bzImage under TCG costs ~3 s.
# Extracted once per kernel into a cache (CELL_VM_CACHE, default
# ~/.cache/cell-vm); CELL_VM_PVH=0 boots the bzImage instead.
extract_vmlinux() { # $1 bzImage, $2 output
	local magic cmd off
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		cmd=${magic%%:*}
		command -v "$cmd" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$1" 2>/dev/null | cut -d: -f1 | head -n 3); do
			case $cmd in
			xz) tail -c +$((off + 1)) "$1" | xz -dcq --single-stream >"$2" 2>/dev/null ;;
			zstd) tail -c +$((off + 1)) "$1" | zstd -dcq >"$2" 2>/dev/null ;;
			gzip) tail -c +$((off + 1)) "$1" | gzip -dcq >"$2" 2>/dev/null ;;
			esac
			[ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = '177ELF' ] && return 0
		done
	done
	rm -f "$2"
	return 1
}
bootimg=$kernel
if [ "${CELL_VM_PVH:-1}" != 0 ]; then
	cache=${CELL_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/cell-vm}
	key=$(stat -Lc '%s-%Y' "$kernel")
	vmlinux=$cache/vmlinux-$kver-$key
	if [ ! -s "$vmlinux" ]; then
		if mkdir -p "$cache" 2>/dev/null && extract_vmlinux "$kernel" "$vmlinux.tmp$$"; then
			mv -f "$vmlinux.tmp$$" "$vmlinux"
			for old in "$cache/vmlinux-$kver"-*; do
				case $old in "$vmlinux"|*.tmp*) ;; *) rm -f "$old" ;; esac
			done
		elif extract_vmlinux "$kernel" "$tmp/vmlinux"; then
			vmlinux=$tmp/vmlinux
		else
			vmlinux=
			echo "$prog: cannot extract vmlinux from $kernel; booting it compressed (slower)" >&2
		fi
	fi
	[ -n "$vmlinux" ] && bootimg=$vmlinux
fi

# Modules and their dependencies, dependencies first (modules.dep).
declare -A dep_of seen
while IFS=: read -r m deps; do dep_of[$m]=$deps; done <"$moddir/modules.dep"
order=()
add_mod() { # $1: path relative to $moddir, as in modules.dep
	local d
	[ -n "${seen[$1]:-}" ] && return
	seen[$1]=1
	for d in ${dep_of[$1]}; do add_mod "$d"; done
	order+=("$1")
}
# ext4 asks for a crc32c driver at mount time (a soft dependency). loop
# and fuse, when the kernel has them, give the guest /dev/loop0..7 and
# /dev/fuse as a real host has them (the security tests use a loop device
# as a host block device, the podman tests pass /dev/fuse through); without
# them the guest just has none.
for want in virtio_pci 9pnet_virtio 9p overlay virtio_blk crc32c_generic ext4 optional:loop \
	optional:fuse; do
	optional=
	case $want in optional:*) want=${want#optional:}; optional=1 ;; esac
	path=
	for m in "${!dep_of[@]}"; do
		case ${m##*/} in "$want.ko"|"$want.ko.xz"|"$want.ko.zst"|"$want.ko.gz") path=$m; break ;; esac
	done
	if [ -z "$path" ]; then
		# built into the kernel?
		grep -q "/$want.ko" "$moddir/modules.builtin" 2>/dev/null && continue
		[ -n "$optional" ] && continue
		die "module $want not found in $moddir"
	fi
	add_mod "$path"
done

# --- initramfs -----------------------------------------------------------
# Two serial ports carry the command's stdout and stderr; when they end in the
# same place here, one port keeps their order (two would interleave them at
# random points, even mid-line).
merge=${CELL_VM_MERGE:-auto}
if [ "$merge" = auto ]; then
	merge=
	o=$(stat -Lc %d:%i "/proc/$$/fd/1" 2>/dev/null) && [ "$o" = "$(stat -Lc %d:%i "/proc/$$/fd/2" 2>/dev/null)" ] && merge=1
fi
[ "$merge" = 0 ] && merge=
root=$tmp/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,newroot,lower,upper,modules} || die "mkdir failed"
cp "$busybox" "$root/bin/busybox" || die "cannot copy $busybox"
ln -s busybox "$root/bin/sh"  # the other applets: busybox --install in /init
: >"$root/modules/order"
for m in "${order[@]}"; do
	base=${m##*/}
	case $base in
	*.ko) cp "$moddir/$m" "$root/modules/$base" ;;
	*.ko.xz) xz -dc "$moddir/$m" >"$root/modules/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$moddir/$m" >"$root/modules/${base%.zst}" ;;
	*.ko.gz) gzip -dc "$moddir/$m" >"$root/modules/${base%.gz}" ;;
	esac || die "cannot copy module $m"
	echo "${base%.ko*}" >>"$root/modules/order"
done

# The scratch disk for /tmp and /var/tmp: sparse, formatted here (the guest
# mounts it with noinit_itable, so nothing zeroes inode tables under TCG).
command -v mke2fs >/dev/null || die "mke2fs not found (apt-get install e2fsprogs)"
truncate -s "${CELL_VM_DISK:-16G}" "$tmp/scratch.img" || die "cannot make $tmp/scratch.img"
mke2fs -q -F -t ext4 "$tmp/scratch.img" || die "mke2fs $tmp/scratch.img failed"

# Quote for a POSIX shell: 'it'\''s'
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

# The command, run in the new root by the host's /bin/sh.
{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	echo 'export HOME=/root LANG=C.UTF-8 TERM=dumb PYTHONDONTWRITEBYTECODE=1'
	[ -n "$overlay" ] || echo "export PYTEST_ADDOPTS='-p no:cacheprovider'"
	for e in ${envs[@]+"${envs[@]}"}; do echo "export ${e%%=*}=$(q "${e#*=}")"; done
	printf 'cd %s 2>/dev/null || { echo %s >&2; cd /; }\n' "$(q "$cwd")" \
		"$(q "$prog: no directory $cwd in the guest; running in /")"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$root/cmd.sh"

{
	echo "CACHE=$(q "${CELL_VM_9P_CACHE:-loose}")"
	echo "OVERLAY=$(q "$overlay")"
	echo "CGROUP=$(q "$cgroup")"
	echo "SYSTEMD=$(q "$systemd")"
	echo "SYSTEMD_ARGS=$(q "${CELL_VM_SYSTEMD_ARGS:-}")"
	echo "VERBOSE=$(q "$verbose")"
	echo "MERGE=$(q "$merge")"
	# A working directory under a path the guest covers (a
	# checkout in /tmp, as CI may make) is carried over on top of it.
	case $cwd in /tmp/*|/var/tmp/*|/run/*) echo "KEEP=$(q "$cwd")" ;; *) echo "KEEP=" ;; esac
} >"$root/vm.conf"

cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 in the initramfs: modules, the host root over 9p, a pure cgroup v2
# /sys/fs/cgroup, then the command, then power off.
export PATH=/bin
/bin/busybox --install -s /bin
. /vm.conf
log() { [ -n "$VERBOSE" ] && { read up _ </proc/uptime; echo "cell-vm: [$up] $*"; }; }
fail() {
	echo; echo "cell-vm: setup failed: $*"
	echo "CELL-VM-SETUP-FAILED"
	poweroff -f; echo o >/proc/sysrq-trigger; sleep 10
}
mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
log "init"
while read -r m; do
	insmod "/modules/$m.ko" || fail "insmod $m"
done </modules/order
log "modules loaded"

opts="trans=virtio,version=9p2000.L,msize=262144,cache=$CACHE"
if [ -n "$OVERLAY" ]; then
	mount -t 9p -o "ro,$opts" hostroot /lower || fail "mount 9p hostroot"
	mount -t tmpfs -o mode=755 tmpfs /upper || fail "tmpfs for overlay"
	mkdir -p /upper/u /upper/w
	mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot ||
		fail "overlay root"
else
	mount -t 9p -o "ro,$opts" hostroot /newroot || fail "mount 9p hostroot"
fi
R=/newroot
if [ -n "$KEEP" ]; then
	mkdir -p /keep && mount --bind "$R$KEEP" /keep || fail "keep $KEEP"
fi
# virtio_blk probes the disk asynchronously.
n=0; while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
mkdir -p /scratch && mount -t ext4 -o noinit_itable /dev/vda /scratch || fail "mount scratch disk"
for d in tmp var/tmp; do
	mkdir -p "/scratch/$d" && chmod 1777 "/scratch/$d" && mount --bind "/scratch/$d" "$R/$d" ||
		fail "scratch disk on /$d"
done
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run" || fail "tmpfs on /run"
if [ -n "$KEEP" ]; then
	mkdir -p "$R$KEEP" && mount --move /keep "$R$KEEP" || fail "put back $KEEP"
fi
mount -t proc -o nosuid,nodev,noexec proc "$R/proc" || fail "proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs "$R/sys" || fail "sysfs"
# securityfs, as systemd mounts it on a real host: it says which LSMs are
# active (/sys/kernel/security/lsm, .../apparmor), as runtimes read it.
mount -t securityfs -o nosuid,nodev,noexec securityfs "$R/sys/kernel/security" 2>/dev/null
# With --systemd, systemd mounts its own layout (v2, or hybrid with
# CELL_VM_SYSTEMD_ARGS=systemd.unified_cgroup_hierarchy=0: systemd sees the
# 9p root's /.dockerenv, thinks it is in a container and reads its own
# arguments instead of the kernel's) and enables the controllers.
[ -n "$SYSTEMD" ] || mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 "$R/sys/fs/cgroup" || fail "cgroup2"
mount -t devtmpfs -o nosuid devtmpfs "$R/dev" || fail "devtmpfs"
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts" || fail "devpts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm" || fail "shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue "$R/dev/mqueue" 2>/dev/null
ln -sf /proc/self/fd "$R/dev/fd"
ln -sf /proc/self/fd/0 "$R/dev/stdin"
ln -sf /proc/self/fd/1 "$R/dev/stdout"
ln -sf /proc/self/fd/2 "$R/dev/stderr"
[ -e "$R/dev/ptmx" ] && { rm -f "$R/dev/ptmx"; ln -s pts/ptmx "$R/dev/ptmx"; }
ip link set lo up 2>/dev/null
hostname cell-vm

# Every controller on for the root's children, as systemd does on a v2 host.
[ -n "$SYSTEMD" ] || for c in $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || cat "$R/sys/fs/cgroup/cgroup.controllers"); do
	echo "+$c" >"$R/sys/fs/cgroup/cgroup.subtree_control" 2>/dev/null || log "cannot enable $c"
done

# Make /newroot the root for real (switch_root: move it onto / and chroot
# there), not a chroot beside the namespace root: unshare(CLONE_NEWUSER)
# refuses a chrooted caller, and pivot_root needs a real mount as the root.
# Stage 2 runs from the new root's /run with a copy of busybox.
mkdir -p "$R/run/cell-vm"
cp /bin/busybox /cmd.sh /vm.conf /stage2 "$R/run/cell-vm/" || fail "copy to /run/cell-vm"
exec switch_root "$R" /run/cell-vm/busybox sh /run/cell-vm/stage2
fail "switch_root"
EOF

cat >"$root/stage2" <<'EOF'
# PID 1 after switch_root: the command, its exit status, power off.
bb=/run/cell-vm/busybox
. /run/cell-vm/vm.conf
fail() {
	echo; echo "cell-vm: setup failed: $*"
	echo "CELL-VM-SETUP-FAILED"
	$bb poweroff -f; echo o >/proc/sysrq-trigger; $bb sleep 10
}
[ -n "$VERBOSE" ] && { read up _ </proc/uptime; echo "cell-vm: [$up] root switched"; }
if [ -n "$SYSTEMD" ] && [ -z "${CELL_VM_SERVICE:-}" ]; then
	# systemd as PID 1, told to start one unit and what it needs: this very
	# script again as cell-vm.service (CELL_VM_SERVICE set), which runs the
	# command and powers off. DefaultDependencies=no keeps sysinit.target
	# (udev, journald, tmpfiles, ...) out; nothing else is enabled.
	# Generators (fstab, getty, sysv, gpt-auto, ...) would cost ~10 s under
	# TCG and make units for what the guest has not got: masked in /run.
	$bb mkdir -p /run/systemd/system /run/systemd/system-generators \
		/run/systemd/system-environment-generators || fail "mkdir /run/systemd/system"
	for g in /lib/systemd/system-generators/* /usr/lib/systemd/system-environment-generators/*; do
		[ -e "$g" ] && $bb ln -sf /dev/null "/run/systemd/${g#*/systemd/}"
	done
	$bb cat >/run/systemd/system/cell-vm.service <<-UNIT || fail "write cell-vm.service"
		[Unit]
		Description=cell-vm command
		DefaultDependencies=no
		[Service]
		Type=exec
		Environment=CELL_VM_SERVICE=1
		ExecStart=$bb sh /run/cell-vm/stage2
		StandardInput=null
		StandardOutput=tty
		TTYPath=/dev/ttyS0
		TTYVHangup=no
		TTYReset=no
	UNIT
	log=notice; [ -n "$VERBOSE" ] && log=info
	exec /lib/systemd/systemd --unit=cell-vm.service --log-target=console \
		--log-level=$log --show-status=0 $SYSTEMD_ARGS
	fail "exec systemd"
fi
if [ -n "$CGROUP" ]; then
	$bb mkdir -p "/sys/fs/cgroup/$CGROUP" && echo $$ >"/sys/fs/cgroup/$CGROUP/cgroup.procs" ||
		fail "cannot enter cgroup $CGROUP"
fi
$bb stty -F /dev/ttyS1 raw -echo || fail "stty ttyS1"
$bb stty -F /dev/ttyS2 raw -echo || fail "stty ttyS2"
read up _ </proc/uptime
echo; echo "CELL-VM-START uptime=$up"
# env -i: nothing from PID 1's environment (the kernel passes it HOME, TERM
# and unknown name=value boot parameters). The redirections are made in the
# subshell, so that this shell's own "Killed" note goes to the console.
if [ -n "$MERGE" ]; then
	(exec $bb env -i /bin/sh /run/cell-vm/cmd.sh </dev/null >/dev/ttyS1 2>&1)
else
	(exec $bb env -i /bin/sh /run/cell-vm/cmd.sh </dev/null >/dev/ttyS1 2>/dev/ttyS2)
fi
rc=$?
read up _ </proc/uptime
# The serial ports drained when the command's last descriptor closed; this
# open/close waits again in case a background process still holds one.
$bb stty -F /dev/ttyS1 >/dev/null 2>&1
$bb stty -F /dev/ttyS2 >/dev/null 2>&1
echo; echo "CELL-VM-EXIT=$rc uptime=$up"
$bb poweroff -f
echo o >/proc/sysrq-trigger
$bb sleep 10
EOF
chmod 755 "$root/init" "$root/cmd.sh" "$root/stage2"
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$tmp/initramfs.cpio" ||
	die "cpio failed"

# --- qemu ----------------------------------------------------------------
# Three serial ports, each a FIFO read here: ttyS0 the console (kernel, init,
# the markers), ttyS1 the command's stdout, ttyS2 its stderr. No stdin is used,
# so this works without a terminal (CI).
mkfifo "$tmp/console" "$tmp/stdout" "$tmp/stderr" || die "mkfifo failed"
cat "$tmp/stdout" &
pids+=($!)
cat "$tmp/stderr" >&2 &
pids+=($!)
t0=$(date +%s.%N)
(
	while IFS= read -r line; do
		line=${line%$'\r'}
		line=${line//$'\e'}
		case $line in CELL-VM-START*) date +%s.%N >"$tmp/t_start" ;; esac
		printf '%s\n' "$line" >>"$tmp/console.log"
		[ -n "$verbose" ] && printf '[console] %s\n' "$line" >&2
	done <"$tmp/console"
) &
pids+=($!)

if [ -n "$verbose" ]; then
	append="console=ttyS0 loglevel=7 printk.time=1"
else
	append="console=ttyS0 quiet loglevel=0"
fi
# Faster boot under TCG, without changing what the tests see: no crypto
# self-tests, no mitigations, no zeroing of every allocation, no watchdog,
# no probing for a keyboard or mouse.
append="$append panic=-1 8250.nr_uarts=4 i8042.noaux i8042.nokbd i8042.nopnp"
append="$append cryptomgr.notests mitigations=off init_on_alloc=0 nowatchdog ${CELL_VM_APPEND:-}"

# shellcheck disable=SC2086
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
	-accel tcg -cpu max -m "${CELL_VM_MEM:-2G}" -smp "${CELL_VM_SMP:-2}" \
	-nographic -nodefaults -no-user-config -no-reboot -nic none \
	-kernel "$bootimg" -initrd "$tmp/initramfs.cpio" -append "$append" \
	-chardev file,id=con,path="$tmp/console" -serial chardev:con \
	-chardev file,id=out,path="$tmp/stdout" -serial chardev:out \
	-chardev file,id=err,path="$tmp/stderr" -serial chardev:err \
	-fw_cfg name=etc/sercon-port,string=0 \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-drive file="$tmp/scratch.img",if=none,id=scratch,format=raw,cache=unsafe \
	-device virtio-blk-pci,drive=scratch \
	${CELL_VM_QEMU_ARGS:-} \
	</dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
t1=$(date +%s.%N)

# Let the readers finish: a FIFO that qemu never opened (it failed early)
# would keep its reader blocked in open(), so open each once for writing.
for f in console stdout stderr; do exec 3<>"$tmp/$f"; exec 3>&-; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
pids=()

[ -n "$verbose" ] && [ -s "$tmp/qemu.log" ] && sed 's/^/[qemu] /' "$tmp/qemu.log" >&2
exitline=$(grep -a '^CELL-VM-EXIT=' "$tmp/console.log" 2>/dev/null | tail -n 1)
if [ -n "$verbose" ] || [ -n "${CELL_VM_TIMING:-}" ]; then
	{
		sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
		printf '%s: wall %ss' "$prog" "$(sub "$t1" "$t0")"
		[ -f "$tmp/t_start" ] && printf ', boot to command %ss' "$(sub "$(cat "$tmp/t_start")" "$t0")"
		up0=$(sed -n 's/^CELL-VM-START uptime=//p' "$tmp/console.log")
		up1=${exitline##*uptime=}
		[ -n "$up0" ] && [ -n "$exitline" ] && printf ', command %ss (guest clock)' "$(sub "$up1" "$up0")"
		echo
	} >&2
fi
if [ -n "$exitline" ]; then
	rc=${exitline#CELL-VM-EXIT=}
	exit "${rc%% *}"
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "$prog: timeout after ${timeout_s}s; qemu killed" >&2
	status=124
else
	echo "$prog: the VM ended without an exit status (qemu status $qrc)" >&2
	status=125
fi
if [ -z "$verbose" ]; then
	echo "--- console (VERBOSE=1 for kernel messages) ---" >&2
	tail -n 40 "$tmp/console.log" >&2 2>/dev/null
	[ -s "$tmp/qemu.log" ] && { echo "--- qemu ---" >&2; tail -n 20 "$tmp/qemu.log" >&2; }
fi
exit "$status"
