package plugin

import "context"

// TemplateSource offers server templates: what to run and how to install
// it, e.g. Pterodactyl eggs converted from a git repository.
type TemplateSource interface {
	Base
	// List summarises every template on offer.
	List(ctx context.Context) ([]TemplateSummary, error)
	// Fetch returns one template; an unknown ID is ErrNotFound.
	Fetch(ctx context.Context, id string) (Template, error)
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
	// Images maps a label shown to users ("Java 21") to an image reference.
	Images map[string]string
	// Startup is the command line, with {{VARIABLE}} placeholders.
	Startup string
	// Stop is the console command that stops the server; empty: SIGTERM.
	Stop string
	// DonePattern is a regular expression matching the console line that
	// says the server is up.
	DonePattern string
	Install     Install
	Variables   []Variable
	ConfigFiles []ConfigFile
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
	// Rules validate user input, e.g. "required|string|max:20".
	Rules string
}

// ConfigFile is a file the agent rewrites before each start.
type ConfigFile struct {
	Path string
	// Parser is one of properties, yaml, json, ini, file.
	Parser  string
	Replace map[string]string
}
