package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestTemplatesRoundTripImagesConfigFilesAndSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		in := &store.Template{
			Name: "Paper", Startup: "java -jar server.jar",
			Images: []store.TemplateImage{{Label: "Java 21", Image: "ghcr.io/x/java:21"}, {Label: "Java 17", Image: "ghcr.io/x/java:17"}},
			ConfigFiles: []store.TemplateConfigFile{{Path: "server.properties", Parser: "properties",
				Replace: []store.TemplateReplace{{Match: "server-port", Value: "{{SERVER_PORT}}"}, {Match: "motd", Value: "hi"}}}},
			Source: "eggs", SourceRef: "minecraft/paper", SourceVersion: "v3",
		}
		if err := s.CreateTemplate(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := s.TemplateBySource(ctx, "eggs", "minecraft/paper")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != in.ID || !reflect.DeepEqual(got.Images, in.Images) || !reflect.DeepEqual(got.ConfigFiles, in.ConfigFiles) ||
			got.SourceVersion != "v3" {
			t.Fatalf("read back %+v\nwrote %+v", got, in)
		}
		if byName, err := s.TemplateByName(ctx, "Paper"); err != nil || byName.ID != in.ID {
			t.Fatalf("TemplateByName = %v, %v", byName, err)
		}
		if _, err := s.TemplateBySource(ctx, "eggs", "minecraft/vanilla"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown source ref: err = %v, want ErrNotFound", err)
		}

		// One template per source reference; uploads (no reference) and
		// hand-made templates are not limited.
		dup := &store.Template{Name: "Paper 2", Startup: "run", Source: "eggs", SourceRef: "minecraft/paper"}
		if err := s.CreateTemplate(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second template of one source ref: err = %v, want ErrConflict", err)
		}
		for _, name := range []string{"upload 1", "upload 2"} {
			if err := s.CreateTemplate(ctx, &store.Template{Name: name, Startup: "run", Source: "eggs"}); err != nil {
				t.Fatalf("uploaded template %s: %v", name, err)
			}
		}
		plain, err := s.TemplateByName(ctx, "upload 1")
		if err != nil || plain.ConfigFiles == nil || len(plain.ConfigFiles) != 0 {
			t.Fatalf("a template without config files reads back as %+v, %v", plain, err)
		}
	})
}

// Rows written before images had labels hold bare references.
func TestTemplatesReadImagesStoredAsBareReferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tmpl := &store.Template{Name: "old", Startup: "run", Images: []store.TemplateImage{{Label: "x", Image: "x"}}}
		if err := s.CreateTemplate(ctx, tmpl); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().NewUpdate().Table("templates").Set("images = ?", `["ghcr.io/x/java:21","img:2"]`).
			Where("id = ?", tmpl.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.TemplateByID(ctx, tmpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.TemplateImage{{Label: "ghcr.io/x/java:21", Image: "ghcr.io/x/java:21"}, {Label: "img:2", Image: "img:2"}}
		if !reflect.DeepEqual(got.Images, want) {
			t.Fatalf("images = %+v, want %+v", got.Images, want)
		}
	})
}
