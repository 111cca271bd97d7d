package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"catalyst.dev/agent/internal/config"
)

// configure exchanges a deployment token for this node's credential and
// writes agent.hcl.
func configure(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("configure", flag.ContinueOnError)
	core := fs.String("core", "", "the core's URL, e.g. https://panel.example.com")
	token := fs.String("token", "", "the deployment token `catalyst node create` printed")
	path := fs.String("config", defaultConfigPath, "where to write the agent configuration")
	dataDir := fs.String("data-dir", "/var/lib/catalyst", "where server volumes and logs live")
	pluginDir := fs.String("plugin-dir", defaultPluginDir(), "where the plugin executables (catalyst-backup-local, …) are")
	force := fs.Bool("force", false, "overwrite an existing configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *core == "" || *token == "" {
		return errors.New("configure needs --core URL and --token TOKEN")
	}
	if !*force {
		if _, err := os.Stat(*path); err == nil {
			return fmt.Errorf("%s exists; pass --force to replace it (the node's old credential stops working)", *path)
		}
	}
	coreURL := strings.TrimRight(*core, "/")
	enrol, err := exchangeToken(ctx, coreURL, *token)
	if err != nil {
		return err
	}
	src := config.Render(config.Config{CoreURL: coreURL, NodeID: enrol.NodeID, Credential: enrol.Credential, DataDir: *dataDir, PluginDir: *pluginDir})
	if err := writeFileAtomic(*path, src, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "node %s enrolled; configuration written to %s\nstart the agent with: catalyst-agent run --config %s\n", enrol.NodeID, *path, *path)
	return nil
}

// defaultPluginDir is the plugins directory beside the agent's executable
// when there is one (a build tree: bin/catalyst-agent and bin/plugins),
// else the packaged location.
func defaultPluginDir() string {
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Join(filepath.Dir(exe), "plugins")
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
	}
	return "/usr/lib/catalyst/plugins"
}

type enrolment struct {
	NodeID     string `json:"node_id"`
	Credential string `json:"credential"`
}

func exchangeToken(ctx context.Context, coreURL, token string) (*enrolment, error) {
	body, _ := json.Marshal(map[string]string{"token": token})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, coreURL+"/api/agent/configure", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("core URL %q: %w", coreURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the core at %s: %w", coreURL, err)
	}
	defer resp.Body.Close()
	var env struct {
		Data  *enrolment `json:"data"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env); err != nil {
		return nil, fmt.Errorf("the core at %s answered %s with no Catalyst response; is the URL right?", coreURL, resp.Status)
	}
	if env.Error != nil {
		return nil, fmt.Errorf("the core refused the token: %s (%s)", env.Error.Message, env.Error.Code)
	}
	if resp.StatusCode != http.StatusOK || env.Data == nil || env.Data.NodeID == "" || env.Data.Credential == "" {
		return nil, fmt.Errorf("unexpected answer from the core: %s", resp.Status)
	}
	return env.Data, nil
}

// writeFileAtomic writes to a temporary file beside path and renames it
// over, so a crash never leaves half a configuration.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".agent-*.hcl")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
