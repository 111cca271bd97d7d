package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/templates-eggs/internal/source"
	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func TestConformance(t *testing.T) {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := os.ReadFile(filepath.Join(dir, "minecraft", "bungeecord.json"))
	if err != nil {
		t.Fatal(err)
	}
	opts := plugintest.TemplateSourceOptions{
		Config:    map[string]any{"directory": dir},
		WantIDs:   []string{"minecraft/vanilla", "minecraft/paper", "minecraft/bungeecord", "steam/longship"},
		ParseFile: proxy, ParseName: "egg-bungeecord.json",
	}
	t.Run("in-process", func(t *testing.T) {
		plugintest.TemplateSource(t, plugintest.InProcess(source.New(hclog.NewNullLogger())), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.TemplateSource(t, plugintest.Binary(binary), opts)
	})
}
