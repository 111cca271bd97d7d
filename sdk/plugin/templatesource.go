package plugin

import "context"

// TemplateSource offers server templates: what to run and how to install
// it, e.g. Pterodactyl eggs converted from a directory.
type TemplateSource interface {
	Base
	// List summarises every template on offer.
	List(ctx context.Context) ([]TemplateSummary, error)
	// Fetch returns one template; an unknown ID is ErrNotFound.
	Fetch(ctx context.Context, id string) (Template, error)
	// Parse converts a file an administrator uploaded (name is its file
	// name, data its content) into a template. A source that reads no
	// files returns ErrUnimplemented; content it cannot read is
	// ErrInvalidArgument with a message that says what is wrong.
	Parse(ctx context.Context, name string, data []byte) (Template, error)
}

// TemplateSummary is a template's entry in List.
type TemplateSummary struct {
	ID          string
	Name        string
	Description string
	// Version changes whenever the template's content does.
	Version string
}

// Template describes how to install and run one kind of game server.
type Template struct {
	ID          string
	Name        string
	Description string
	Version     string
	Author      string
	// Images are the images users choose from, in order; the first is the
	// default.
	Images []Image
	// Startup is the command line, with {{VARIABLE}} placeholders. It is
	// split into words like a shell would, but never run by one; a source
	// that needs a shell says so: /bin/sh -c "…".
	Startup string
	// Stop is the console command that stops the server; empty: SIGTERM.
	// "^C" sends SIGINT.
	Stop string
	// DonePatterns are console substrings, any of which says the server is
	// up; one prefixed "regex:" is a regular expression (Go syntax).
	DonePatterns []string
	Install      Install
	Variables    []Variable
	ConfigFiles  []ConfigFile
	// Denylist holds file patterns (path.Match syntax) users may neither
	// see nor touch.
	Denylist []string
	// Features are named capabilities the panel may offer for this game
	// (e.g. "eula", "java_version", "steam_disk_space").
	Features []string
	// Warnings say what the source could not convert (an unknown egg
	// feature, an unsupported validation rule), for the administrator who
	// imports the template to read. They are not part of the template.
	Warnings []string
}

// Image is one image users may run the template on.
type Image struct {
	// Label is shown to users ("Java 21"); empty shows Ref.
	Label string
	// Ref is an OCI image reference.
	Ref string
}

// Install is the script that prepares a server's files.
type Install struct {
	Image      string
	Entrypoint string
	Script     string
}

// Variable is a setting users may see or change.
type Variable struct {
	Name         string
	Description  string
	Env          string
	DefaultValue string
	UserViewable bool
	UserEditable bool
	// Rules validate values, e.g. "required|string|max:20"; the grammar
	// is catalyst.dev/sdk/varrules.
	Rules string
}

// ConfigFile is a file the agent rewrites before each start.
type ConfigFile struct {
	// Path is relative to the server's volume.
	Path string
	// Parser is one of properties, yaml, json, ini, file.
	Parser string
	// Replace is applied in order.
	Replace []Replacement
}

// Replacement sets one value in a config file.
type Replacement struct {
	// Match names what to set: a key (properties), a dotted path
	// ("listeners[0].host", "servers.*.address") for yaml and json,
	// "section.key" for ini (a key before any section: just "key"), and
	// for file the start of the line to replace.
	Match string
	// Value is the new value (for file: the whole new line), with
	// {{VARIABLE}} placeholders: the server's variables and SERVER_IP,
	// SERVER_PORT, SERVER_MEMORY.
	Value string
}
