#!/usr/bin/env bash
# Installs, from Debian's packages, what a node needs to run game servers and
# is missing: containerd, runc, the CNI plugins and iptables; and Node.js with
# npm, which build the core's web UI. Says what it does; does nothing when all
# is present.
set -euo pipefail

need=()
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
# The machine's own Node.js (nodesource's, say) when it has one.
if ! command -v node >/dev/null 2>&1; then
	need+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
	need+=(npm)
fi

# The web UI's build (Vite, jsdom) needs Node.js 20.19 or newer; Debian 12's
# own nodejs is 18, so a machine without a newer one (NodeSource's packages,
# say) is told so.
check_node() {
	if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
		echo "install-runtime: Node.js $(node --version) is too old to build the web UI; it needs 20.19 or newer (NodeSource's nodejs packages, for one)" >&2
		exit 1
	fi
}

if [ ${#need[@]} -eq 0 ]; then
	check_node
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
check_node
