// Package e2e holds Catalyst's end-to-end tests and benchmarks: they build
// the real `catalyst` and `catalyst-agent` binaries, run the core on its
// embedded SQLite default and the agent on a private containerd, and drive
// them through the public API as the panel would.
//
// They need root, containerd and runc (as the other containerd tests do);
// without them the tests skip, and under CI=true they fail.
package e2e
