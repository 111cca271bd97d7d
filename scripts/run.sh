#!/usr/bin/env bash
# `make run`: the whole thing on one machine, on the embedded SQLite default.
#
#   - containerd: the node's own when it answers, otherwise one started here
#     (systemd's unit where systemd runs, else a containerd in the
#     background logging to data/containerd.log);
#   - the core, listening on 127.0.0.1:8080 (the web UI and the API under
#     /api; `make build` embedded the UI), data under ./data; on first
#     start it prints the administrator's credentials once;
#   - the example templates (examples/templates), imported on every start;
#   - on first start, a node named "local" with allocations
#     127.0.0.1:25565-25574, enrolled as data/agent.hcl;
#   - the demo image the "Catalyst demo server" template runs on
#     (bin/images/catalyst-demo.tar, `make demo-image`), imported into the
#     node's containerd as catalyst.local/demo:1 the first time and
#     whenever it was rebuilt since, so a first server needs no download;
#   - the agent, its servers' volumes under data/agent.
#
# Ctrl-C stops the core and the agent; game servers keep running in
# containerd and the agent reattaches to them on the next `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "make run: the agent runs containers and needs root (sudo make run)" >&2
	exit 1
fi

data=$PWD/data
mkdir -p "$data"
core_url=http://127.0.0.1:8080
sock=/run/containerd/containerd.sock
pids=()

stop_all() {
	trap - INT TERM EXIT
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# --- containerd ----------------------------------------------------------
if ! ctr --address "$sock" version >/dev/null 2>&1; then
	if [ -d /run/systemd/system ]; then
		echo "run: starting containerd (systemctl start containerd)"
		systemctl start containerd
	else
		echo "run: starting containerd in the background (log: data/containerd.log)"
		# Not one of ours to stop: it outlives `make run`, like the servers in it.
		setsid containerd >>"$data/containerd.log" 2>&1 </dev/null &
	fi
	for _ in $(seq 1 50); do
		ctr --address "$sock" version >/dev/null 2>&1 && break
		sleep 0.2
	done
	ctr --address "$sock" version >/dev/null 2>&1 || {
		echo "run: containerd does not answer at $sock; see data/containerd.log" >&2
		exit 1
	}
fi

# --- example templates ---------------------------------------------------
# examples/templates, imported on every start (an import replaces the
# template of the same name): "Catalyst demo server" runs on the demo
# image imported below, without any download.
for f in examples/templates/*.json; do
	./bin/catalyst template import --file "$f" >/dev/null ||
		echo "run: could not import the example template $f (see above)" >&2
done

# --- core ----------------------------------------------------------------
./bin/catalyst serve &
pids+=($!)
for _ in $(seq 1 100); do
	# bash itself, not curl: a fresh Debian may not have it.
	(exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
	kill -0 "${pids[0]}" 2>/dev/null || { echo "run: the core exited" >&2; exit 1; }
	sleep 0.1
done

# --- the local node, once ------------------------------------------------
agent_cfg=$data/agent.hcl
if [ ! -f "$agent_cfg" ]; then
	echo "run: registering this machine as node \"local\""
	mem_mb=$(awk '/MemTotal/ {print int($2/1024*0.8)}' /proc/meminfo)
	disk_mb=$(df -Pm "$data" | awk 'NR==2 {print int($4*0.8)}')
	out=$(./bin/catalyst node create --name local --fqdn 127.0.0.1 \
		--memory-mb "$mem_mb" --disk-mb "$disk_mb" --ip 127.0.0.1 --ports 25565-25574)
	token=$(grep -o 'catd_[A-Za-z0-9_]*' <<<"$out" | head -1)
	./bin/catalyst-agent configure --core "$core_url" --token "$token" \
		--config "$agent_cfg" --data-dir "$data/agent"
fi

# --- the demo image ------------------------------------------------------
# A game that runs without any download (examples/templates/demo.json).
demo_image=bin/images/catalyst-demo.tar
demo_stamp=$data/demo-image.imported
if [ -f "$demo_image" ] && [ ! "$demo_stamp" -nt "$demo_image" ]; then
	echo "run: importing the demo image into containerd"
	if ./bin/catalyst-agent image import --config "$agent_cfg" "$demo_image"; then
		touch "$demo_stamp"
	else
		echo "run: the demo image could not be imported; servers of the demo template will not start" >&2
	fi
fi

# --- agent ---------------------------------------------------------------
./bin/catalyst-agent run --config "$agent_cfg" &
pids+=($!)

echo "run: panel at $core_url — Ctrl-C stops the core and the agent"
wait -n "${pids[@]}"
