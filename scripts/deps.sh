#!/bin/sh
# Install the Debian packages that building, testing and the demo need.
# This is the only script in the project that installs packages. It is
# idempotent: when everything is present it only asks dpkg and returns.
set -eu

# Build: compiler, build system, libraries with headers.
BUILD="make meson ninja-build gcc libc6-dev pkg-config libjansson-dev libseccomp-dev libcap-dev libcurl4-openssl-dev libarchive-dev libssl-dev"
# What the engine runs as it is (DESIGN.md): tini-static for `cell run --init`.
BUILD="$BUILD tini"
# Tests: unit (cmocka), integration (pytest on Debian's python3), the
# busybox rootfs, peer runtimes, and the tools the tests call; clang with
# its fuzzer and sanitizer runtimes (libclang-rt-14-dev is only a
# recommendation of clang, which --no-install-recommends leaves out).
# apparmor (apparmor_parser), as Debian installs it: on a kernel with AppArmor
# on (the v2 stage's Debian 12 kernel) dockerd loads its docker-default
# profile with it, and runs no container without it.
TEST="libcmocka-dev python3 python3-pytest busybox-static crun runc iproute2 procps util-linux docker-registry skopeo umoci apache2-utils podman python3-cryptography zstd containerd docker.io libcap2-bin clang libclang-rt-14-dev apparmor"
# A pure cgroup-v2 kernel booted under qemu by the cgroup v2 tests (cpio
# packs its initramfs; systemd is the guest's PID 1 in the systemd stage;
# xz unpacks the kernel image, so that qemu boots it without decompressing).
VM="qemu-system-x86 linux-image-amd64 cpio systemd xz-utils"

say() { printf 'deps: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    say "must be run as root: it installs Debian packages with apt-get" >&2
    exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    say "dpkg-query/apt-get not found: this script supports Debian 12 only" >&2
    exit 1
fi

# One dpkg-query for all: it prints a line per known package (and complains
# on stderr about unknown ones, which simply count as missing).
# shellcheck disable=SC2086 # word splitting of the package lists is intended
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $BUILD $TEST $VM 2>/dev/null |
    awk '$NF == "installed" && $(NF-1) == "ok" { printf " %s ", $1 }' || true)
missing=""
for p in $BUILD $TEST $VM; do
    case "$installed" in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    say "all packages present, nothing to install"
    exit 0
fi

say "missing:$missing"
say "apt-get update"
apt-get update -q
say "apt-get install$missing"
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
say "installed:$missing"
