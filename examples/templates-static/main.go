// Command templates-static is an example Catalyst template source serving
// one built-in template: a Minecraft (Paper) server.
package main

import (
	"context"
	"fmt"

	"catalyst.dev/sdk/plugin"
)

type source struct {
	image string
}

var _ plugin.TemplateSource = (*source)(nil)

func (s *source) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "templates-static", Kind: plugin.KindTemplateSource, Version: "1.0.0"}, nil
}

func (s *source) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{{
		Name: "java_image", Type: plugin.TypeString, Default: "ghcr.io/pterodactyl/yolks:java_21",
		Description: "Image the Paper template runs on.",
	}}}, nil
}

func (s *source) Configure(_ context.Context, cfg plugin.Config) error {
	var c struct {
		JavaImage string `json:"java_image"`
	}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	s.image = c.JavaImage
	return nil
}

func (s *source) paper() plugin.Template {
	return plugin.Template{
		ID:           "minecraft-paper",
		Name:         "Minecraft: Paper",
		Description:  "High-performance Minecraft Java server.",
		Version:      "2026.11.1",
		Author:       "examples@catalyst.dev",
		Images:       []plugin.Image{{Label: "Java 21", Ref: s.image}},
		Startup:      "java -Xms128M -Xmx{{SERVER_MEMORY}}M -jar {{SERVER_JARFILE}}",
		Stop:         "stop",
		DonePatterns: []string{")! For help, type "},
		Install: plugin.Install{
			Image:      "ghcr.io/pterodactyl/installers:alpine",
			Entrypoint: "ash",
			Script:     "cd /mnt/server && curl -fsSL -o ${SERVER_JARFILE} \"https://api.papermc.io/v2/projects/paper/versions/${MINECRAFT_VERSION}/builds/${BUILD_NUMBER}/downloads/paper-${MINECRAFT_VERSION}-${BUILD_NUMBER}.jar\"",
		},
		Variables: []plugin.Variable{
			{Name: "Minecraft version", Env: "MINECRAFT_VERSION", DefaultValue: "1.21.4", UserViewable: true, UserEditable: true, Rules: "required|string|max:20"},
			{Name: "Build number", Env: "BUILD_NUMBER", DefaultValue: "latest", UserViewable: true, UserEditable: true, Rules: "required|string|max:20"},
			{Name: "Server jar file", Env: "SERVER_JARFILE", DefaultValue: "server.jar", UserViewable: true, Rules: `required|regex:/^([\w\d._-]+)(\.jar)$/`},
		},
		ConfigFiles: []plugin.ConfigFile{{
			Path:    "server.properties",
			Parser:  "properties",
			Replace: []plugin.Replacement{{Match: "server-port", Value: "{{SERVER_PORT}}"}, {Match: "query.port", Value: "{{SERVER_PORT}}"}},
		}},
	}
}

func (s *source) List(context.Context) ([]plugin.TemplateSummary, error) {
	t := s.paper()
	return []plugin.TemplateSummary{{ID: t.ID, Name: t.Name, Description: t.Description, Version: t.Version}}, nil
}

func (s *source) Fetch(_ context.Context, id string) (plugin.Template, error) {
	if t := s.paper(); id == t.ID {
		return t, nil
	}
	return plugin.Template{}, fmt.Errorf("template %q: %w", id, plugin.ErrNotFound)
}

// Parse reads no files: this source only serves its built-in template.
func (s *source) Parse(context.Context, string, []byte) (plugin.Template, error) {
	return plugin.Template{}, fmt.Errorf("templates-static reads no files: %w", plugin.ErrUnimplemented)
}

func main() { plugin.Serve(&source{}) }
