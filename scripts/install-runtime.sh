#!/usr/bin/env bash
# Installs, from Debian's packages, what a node needs to run game servers and
# is missing: containerd, runc, the CNI plugins and iptables. Says what it
# does; does nothing when all is present.
set -euo pipefail

need=()
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || need+=(iptables)

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-runtime: missing ${need[*]}; run as root (or install them: apt-get install ${need[*]})" >&2
	exit 1
fi
echo "install-runtime: installing ${need[*]} from Debian's packages (apt-get)…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-runtime: installed ${need[*]}"
