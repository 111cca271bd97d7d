package main

import (
	"bytes"
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
	var file string
	create := &cobra.Command{
		Use:   "create --file template.json",
		Short: "Add a template from a JSON file (the body of POST /api/admin/templates)",
		Args:  cobra.NoArgs,
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
			if err := s.CreateTemplate(cmd.Context(), t); err != nil {
				return fmt.Errorf("create template %q: %w", t.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created template %s (id %s)\n", t.Name, t.ID)
			return nil
		},
	}
	create.Flags().StringVar(&file, "file", "", "template JSON file")
	_ = create.MarkFlagRequired("file")

	importCmd := &cobra.Command{
		Use:   "import --file template.json",
		Short: "Add a template from a JSON file, or replace the template of the same name (keeping its ID, so its servers follow)",
		Long: "Reads a template in the shape of POST /api/admin/templates (see examples/templates) and writes it to the\n" +
			"database directly: a new template, or the one with the same name replaced. Running it again with the\n" +
			"same file changes nothing, so scripts may run it on every start.",
		Args: cobra.NoArgs,
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
			old, err := s.TemplateByName(cmd.Context(), t.Name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				if err := s.CreateTemplate(cmd.Context(), t); err != nil {
					return fmt.Errorf("create template %q: %w", t.Name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created template %s (id %s)\n", t.Name, t.ID)
				return nil
			case err != nil:
				return err
			}
			t.ID = old.ID
			if err := s.UpdateTemplate(cmd.Context(), t, templates.Columns...); err != nil {
				return fmt.Errorf("update template %q: %w", t.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "updated template %s (id %s)\n", t.Name, t.ID)
			return nil
		},
	}
	importCmd.Flags().StringVar(&file, "file", "", "template JSON file")
	_ = importCmd.MarkFlagRequired("file")
	cmd.AddCommand(create, importCmd)
	return cmd
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
