#!/usr/bin/env bash
# `make run`: the core on the embedded SQLite default, data under ./data,
# listening on 127.0.0.1:8080. On first start it prints the administrator's
# credentials once. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/catalyst serve "$@"
