#!/usr/bin/env bash
# Makes the Debian 12 (bookworm) base image the Dockerfile builds on, with no image
# registry at all: debootstrap a minimal root file system from a Debian mirror (or a
# local mirror / apt cache: DEBIAN_MIRROR=...) and `podman import` it.
#
#   scripts/make-base-image.sh            # -> localhost/onnxllm-base:bookworm
#   BASE_IMAGE=my/debian:12 DEBIAN_MIRROR=http://mirror.local/debian scripts/make-base-image.sh
#   scripts/make-base-image.sh --force    # rebuild even when the image exists
#   scripts/make-base-image.sh --save F   # also write it as an archive (podman load -i F
#                                         # on a machine that has no mirror either)
#
# Needs root (debootstrap creates device nodes and chroots). Installs the Debian
# packages it uses when they are missing: debootstrap, podman, and runc (crun, podman's
# default runtime, cannot run on hosts with hybrid cgroups v1+v2).
#
# What podman needed on this kind of host (recorded so it is reproducible):
#  - rootful podman (we are root); storage driver overlay on ext4 works as is;
#  - the flags scripts/podman.sh adds (cgroupfs, file events, runc, explicit ulimits:
#    it says when and why); every podman call in this project goes through it;
#  - builds and containers use the host's network (--network host): the build reaches
#    the Debian mirror and npm as scripts/setup-deps.sh does on the host, and the
#    server is reached on 127.0.0.1, so no bridge (netavark/CNI, iptables) is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TAG=${BASE_IMAGE:-localhost/onnxllm-base:bookworm}
FORCE=0
SAVE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --save) SAVE=${2:?--save needs a file}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "make-base-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || { echo "make-base-image: run as root (debootstrap needs it): sudo $0" >&2; exit 1; }

missing=()
for p in debootstrap podman runc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "make-base-image: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

PODMAN=(bash scripts/podman.sh)

if [ "$FORCE" = 0 ] && "${PODMAN[@]}" image exists "$TAG"; then
  echo "make-base-image: $TAG exists (--force to rebuild)"
else
  ROOTFS=$(mktemp -d /var/tmp/onnxllm-rootfs.XXXXXX)
  trap 'rm -rf "$ROOTFS"' EXIT
  echo "make-base-image: debootstrap $SUITE from $MIRROR"
  # minbase: essential packages + apt only; the build and runtime stages add what they need.
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 ||
    { tail -20 "$ROOTFS.log" >&2; echo "make-base-image: debootstrap failed (log: $ROOTFS.log)" >&2; exit 1; }
  rm -f "$ROOTFS.log"
  # Like the official debian images: no recommends, no documentation, no apt cache.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$ROOTFS/etc/apt/apt.conf.d/90onnxllm"
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n' \
    >"$ROOTFS/etc/dpkg/dpkg.cfg.d/90onnxllm-nodoc"
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" >"$ROOTFS/etc/apt/sources.list"
  if [ "$MIRROR" = http://deb.debian.org/debian ]; then
    echo "deb http://deb.debian.org/debian-security $SUITE-security main" >>"$ROOTFS/etc/apt/sources.list"
  fi
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*
  tar -C "$ROOTFS" --numeric-owner -c . |
    "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' - "$TAG" >/dev/null
  echo "make-base-image: imported $TAG ($("${PODMAN[@]}" image inspect --format '{{.Size}}' "$TAG") bytes)"
fi

if [ -n "$SAVE" ]; then
  "${PODMAN[@]}" save -o "$SAVE" "$TAG"
  echo "make-base-image: saved $TAG to $SAVE"
fi
