#!/usr/bin/env bash
# podman with what this host needs, then the arguments as given:
#   scripts/podman.sh build ... | run ... | image exists ... (any podman command)
# A normal host (systemd as PID 1, cgroups v2, full root capabilities) gets plain
# podman. What a host without those needs — found on the VM this project is built on
# (rootful podman 4.3 from Debian 12, PID 1 not systemd, cgroups v1 + an empty v2
# "unified" mount, no CAP_SYS_RESOURCE):
#  - PID 1 is not systemd: --cgroup-manager=cgroupfs (the systemd manager needs a
#    systemd) and --events-backend=file (no journald).
#  - hybrid cgroups: crun refuses them ("cgroups in hybrid mode not supported"), so
#    --runtime runc (Debian package runc; scripts/make-base-image.sh installs it).
#  - no CAP_SYS_RESOURCE: rootful podman raises every container's RLIMIT_NOFILE to
#    1048576 and RLIMIT_NPROC to 4194304, which fails ("setrlimit: operation not
#    permitted"), so run/build/create get --ulimit nofile=<our hard limit> and
#    nproc=32768 (higher values were refused there too).
set -euo pipefail
global=()
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
  global+=(--cgroup-manager=cgroupfs --events-backend=file)
fi
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] && [ -d /sys/fs/cgroup/unified ] &&
  command -v runc >/dev/null; then
  global+=(--runtime runc)
fi
sub=()
if [ $# -gt 0 ]; then
  case "$1" in
    run|build|create)
      capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
      if (( (0x$capeff >> 24 & 1) == 0 )); then
        sub+=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768)
      fi ;;
  esac
  exec podman "${global[@]}" "$1" "${sub[@]}" "${@:2}"
fi
exec podman "${global[@]}"
