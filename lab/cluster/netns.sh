#!/usr/bin/env bash
# Runs a command inside a network namespace of its own, where every pod IP of the lab's cluster is
# a local address:
#
#   unshare --net -- bash lab/cluster/netns.sh <command...>
#
# (`bash lab/cluster/netns.sh <command...>` alone starts the namespace itself.)
#
# `unshare --net` gives the command a fresh network namespace holding only `lo` (down). This script
# brings `lo` up and routes the pod CIDR (10.244.0.0/24, the fake node's podCIDR; ISTIO_STICKY_POD_CIDR
# changes it) to it as local addresses, so a process listening on 0.0.0.0:<port> answers at every
# pod IP. The API server (with --enable-aggregator-routing) calls a webhook Service at its endpoint,
# pod IP:targetPort, which then reaches the process the lab runs for that pod. Nothing in the
# namespace reaches any other network: build everything first (lab/cluster/prepare.ts).
set -euo pipefail

cidr="${ISTIO_STICKY_POD_CIDR:-10.244.0.0/24}"

if [ "$#" -eq 0 ]; then
    echo "usage: unshare --net -- bash lab/cluster/netns.sh <command...>" >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "lab/cluster/netns.sh: needs root (unshare --net and ip route need CAP_NET_ADMIN); run as root" >&2
    exit 1
fi
if ! command -v ip >/dev/null 2>&1; then
    echo "lab/cluster/netns.sh: the ip command (iproute2) is missing" >&2
    exit 1
fi
# Outside a fresh namespace the route below would change the machine's own network: start one.
links="$(ip -o link show)"
if grep -qv ': lo:' <<<"$links"; then
    if [ -n "${ISTIO_STICKY_NETNS_INNER:-}" ]; then
        echo "lab/cluster/netns.sh: unshare --net gave a namespace with interfaces other than lo:" >&2
        echo "$links" >&2
        exit 1
    fi
    if ! unshare --net -- true 2>/dev/null; then
        echo "lab/cluster/netns.sh: cannot make a network namespace (unshare --net failed: $(unshare --net -- true 2>&1 || true))" >&2
        exit 1
    fi
    ISTIO_STICKY_NETNS_INNER=1 exec unshare --net -- bash "$0" "$@"
fi

ip link set lo up
ip route add local "$cidr" dev lo
export ISTIO_STICKY_NETNS="$cidr"
exec "$@"
