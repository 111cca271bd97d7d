package main

import (
	"fmt"
	"os"
	"testing"

	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "templates-static-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary, err = plugintest.BuildPlugin(dir, "."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	opts := plugintest.TemplateSourceOptions{WantIDs: []string{"minecraft-paper"}}
	t.Run("in-process", func(t *testing.T) {
		plugintest.TemplateSource(t, plugintest.InProcess(&source{}), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.TemplateSource(t, plugintest.Binary(binary), opts)
	})
}
