package main

import (
	"bytes"
	"encoding/json"
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
		Short: "Add a template from a JSON file (the fields of GET /api/admin/templates/:tid)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var t store.Template
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&t); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			templates.Normalize(&t)
			if err := templates.Validate(&t); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			_, s, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.CreateTemplate(cmd.Context(), &t); err != nil {
				return fmt.Errorf("create template %q: %w", t.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created template %s (id %s)\n", t.Name, t.ID)
			return nil
		},
	}
	create.Flags().StringVar(&file, "file", "", "template JSON file")
	_ = create.MarkFlagRequired("file")
	cmd.AddCommand(create)
	return cmd
}
