package main

import (
	"testing"

	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func TestConformance(t *testing.T) {
	opts := plugintest.TemplateSourceOptions{WantIDs: []string{"minecraft-paper"}}
	t.Run("in-process", func(t *testing.T) {
		plugintest.TemplateSource(t, plugintest.InProcess(&source{}), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.TemplateSource(t, plugintest.Binary(binary), opts)
	})
}
