// Package plugin is what a Catalyst plugin author compiles against: one Go
// interface per plugin kind, the Serve function that turns an implementation
// into a go-plugin gRPC server, and the gRPC adapters both sides use.
//
// A plugin is a separate executable. The host (the Catalyst core or agent)
// starts it, checks who it is (Info), hands it its configuration
// (ConfigSchema, Configure) and then calls the methods of its kind. See
// sdk/README.md for a complete plugin in thirty lines.
package plugin

import (
	"fmt"
	"slices"

	goplugin "github.com/hashicorp/go-plugin"
)

// Kind names what a plugin does. A plugin is of exactly one kind.
type Kind string

// The plugin kinds the SDK knows.
const (
	KindBackupStore    Kind = "backup_store"
	KindAlertSink      Kind = "alert_sink"
	KindScheduler      Kind = "scheduler"
	KindTemplateSource Kind = "template_source"
	KindPolicy         Kind = "policy"
)

// Kinds lists every kind, in a stable order.
func Kinds() []Kind {
	return []Kind{KindBackupStore, KindAlertSink, KindScheduler, KindTemplateSource, KindPolicy}
}

// Valid reports whether k is a kind this SDK knows.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// APIVersions are the versions of a kind's gRPC service this SDK serves and
// consumes, newest first. They are the "v1" in catalyst.plugin.backupstore.v1.
// A host and a plugin work together when they share one.
func APIVersions(k Kind) []string {
	if !k.Valid() {
		return nil
	}
	return []string{"v1"}
}

// ProtocolVersion is go-plugin's application protocol version: it changes
// only if the way plugins are launched and dispensed changes, not when a
// kind's API gains a version (that is negotiated through Info).
const ProtocolVersion = 1

// Handshake is shared by hosts and plugins. The magic cookie only keeps a
// plugin binary from being run by hand by mistake; it is not a secret.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "CATALYST_PLUGIN",
	MagicCookieValue: "6c1ad5c4-7f0e-4b43-9d0e-0d7f3a2b8e51",
}

// Message and chunk sizes. Both sides set MaxMessageSize; streamed data is
// cut into ChunkSize pieces, far enough below it that a chunk plus its
// envelope never comes near the limit.
const (
	MaxMessageSize = 16 << 20
	ChunkSize      = 1 << 20
)

// basePluginName is the go-plugin name the base service is dispensed under.
const basePluginName = "base"

// EnvLogLevel carries the host's log level to the plugin so plugin logs are
// not produced only to be dropped by the host.
const EnvLogLevel = "CATALYST_PLUGIN_LOG_LEVEL"

// Info describes a plugin.
type Info struct {
	// Name is the plugin's own name, e.g. "backup-dir".
	Name string
	Kind Kind
	// Version is the plugin's release, for operators.
	Version string
	// APIVersions is filled in by the SDK from the services it serves;
	// plugin authors leave it empty.
	APIVersions []string
}

func (i Info) validate() error {
	if i.Name == "" {
		return fmt.Errorf("plugin info: empty name")
	}
	if !i.Kind.Valid() {
		return fmt.Errorf("plugin info: unknown kind %q (want one of %v)", i.Kind, Kinds())
	}
	return nil
}
