# Catalyst agent configuration (one per node).
#
# Validate with:  catalyst-agent check-config --config /etc/catalyst/agent.hcl
# Unknown keys are errors, and every error names file:line:col.

# The core this node connects to. The agent dials out; the node needs no
# inbound port except game ports and SFTP.
core_url = "http://127.0.0.1:8080"

# This node's identity and long-lived credential, as issued by the core.
node_id    = "00000000-0000-0000-0000-000000000000"
credential = "replace-me"

# Server volumes, console logs and the SFTP host key live here.
data_dir = "/var/lib/catalyst"

containerd {
  # containerd's API socket.
  address = "/run/containerd/containerd.sock"
  # The namespace Catalyst's containers live in; keep it to Catalyst alone.
  namespace = "catalyst"
}

log {
  # trace, debug, info, warn or error.
  level = "info"
  # "text" for a terminal, "json" for a log collector.
  format = "text"
}
