#!/usr/bin/env bash
# Regenerates the Go code for every .proto under sdk/proto.
# Run from anywhere: `sdk/proto/generate.sh` (the Makefile's `proto` target).
# The protoc-gen-go and protoc-gen-go-grpc plugins come from bin/tools, built
# from the versions pinned in tools/go.mod, so output does not depend on what
# happens to be on PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/bin/tools"

(cd "$root/tools" &&
  go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go &&
  go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc)

cd "$here"
mapfile -t protos < <(find . -name '*.proto' -printf '%P\n' | sort)
protoc \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
  --proto_path=. \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  "${protos[@]}"
echo "generated ${#protos[@]} proto files" >&2
