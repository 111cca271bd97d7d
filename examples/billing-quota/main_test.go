package main

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func server(owner string, mb int64) plugin.Server {
	return plugin.Server{ID: "srv", OwnerID: owner, NodeID: "node-1", Resources: plugin.Resources{MemoryMB: mb}}
}

func usage(servers, mb int64) plugin.Usage {
	return plugin.Usage{Servers: servers, Resources: plugin.Resources{MemoryMB: mb}}
}

var opts = plugintest.PolicyOptions{
	Config: map[string]any{
		"default_memory_mb": 4096,
		"user_memory_mb":    map[string]string{"vip": "16384"},
		"max_servers":       3,
	},
	Cases: []plugintest.PolicyCase{
		{Name: "create within quota",
			Request: plugin.CheckRequest{Action: plugin.ActionCreate, Server: server("alice", 1024), OwnerUsage: usage(1, 2048)}, WantAllow: true},
		{Name: "create exactly at quota",
			Request: plugin.CheckRequest{Action: plugin.ActionCreate, Server: server("alice", 2048), OwnerUsage: usage(1, 2048)}, WantAllow: true},
		{Name: "create beyond quota",
			Request: plugin.CheckRequest{Action: plugin.ActionCreate, Server: server("alice", 3072), OwnerUsage: usage(1, 2048)}, WantAllow: false},
		{Name: "create beyond default but within a per-user quota",
			Request: plugin.CheckRequest{Action: plugin.ActionCreate, Server: server("vip", 8192), OwnerUsage: usage(1, 4096)}, WantAllow: true},
		{Name: "create beyond the server count",
			Request: plugin.CheckRequest{Action: plugin.ActionCreate, Server: server("alice", 128), OwnerUsage: usage(3, 512)}, WantAllow: false},
		{Name: "grow beyond quota",
			Request: plugin.CheckRequest{Action: plugin.ActionResize, Server: server("alice", 4096), Previous: plugin.Resources{MemoryMB: 1024}, OwnerUsage: usage(1, 1024)}, WantAllow: false},
		{Name: "shrink while over quota",
			Request: plugin.CheckRequest{Action: plugin.ActionResize, Server: server("alice", 2048), Previous: plugin.Resources{MemoryMB: 8192}, OwnerUsage: usage(1, 4096)}, WantAllow: true},
		{Name: "start while over quota",
			Request: plugin.CheckRequest{Action: plugin.ActionStart, Server: server("alice", 4096), OwnerUsage: usage(1, 1024)}, WantAllow: false},
	},
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.Policy(t, plugintest.InProcess(newQuota(hclog.NewNullLogger())), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.Policy(t, plugintest.Binary(binary), opts)
	})
}
