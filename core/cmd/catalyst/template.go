package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/templates"
	"github.com/spf13/cobra"
)

func newTemplateCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Manage server templates"}
	create := templateFileCommand(g, "create --file template.json",
		"Add a template from a JSON file (the body of POST /api/admin/templates)", "",
		func(ctx context.Context, s *store.Store, t *store.Template) (string, error) {
			return "created", s.CreateTemplate(ctx, t)
		})
	replace := templateFileCommand(g, "import --file template.json",
		"Add a template from a JSON file, or replace the template of the same name (keeping its ID, so its servers follow)",
		"Reads a template in the shape of POST /api/admin/templates (see examples/templates) and writes it to the\n"+
			"database directly: a new template, or the one with the same name replaced. Running it again with the\n"+
			"same file changes nothing, so scripts may run it on every start.",
		func(ctx context.Context, s *store.Store, t *store.Template) (string, error) {
			old, err := s.TemplateByName(ctx, t.Name)
			if errors.Is(err, store.ErrNotFound) {
				return "created", s.CreateTemplate(ctx, t)
			}
			if err != nil {
				return "", err
			}
			t.ID = old.ID
			return "updated", s.UpdateTemplate(ctx, t, templates.Columns...)
		})
	cmd.AddCommand(create, replace)
	return cmd
}

// templateFileCommand is a command that reads a template file (--file),
// checks it and has write store it; write says what it did ("created").
func templateFileCommand(g *globals, use, short, long string,
	write func(context.Context, *store.Store, *store.Template) (string, error)) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use: use, Short: short, Long: long, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := readTemplateFile(file)
			if err != nil {
				return err
			}
			_, s, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			did, err := write(cmd.Context(), s, t)
			if err != nil {
				return fmt.Errorf("write template %q: %w", t.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s template %s (id %s)\n", did, t.Name, t.ID)
			return nil
		},
	}
	c.Flags().StringVar(&file, "file", "", "template JSON file")
	_ = c.MarkFlagRequired("file")
	return c
}

// readTemplateFile reads and checks a template file.
func readTemplateFile(file string) (*store.Template, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var spec templates.Spec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t := spec.Template()
	templates.Normalize(t)
	if err := templates.Validate(t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return t, nil
}
