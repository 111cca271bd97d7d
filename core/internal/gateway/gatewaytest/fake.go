package gatewaytest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"catalyst.dev/sdk/wire"
)

// Fake is an in-memory agent API. Power actions change the fake server's
// state at once and report every step as wire.EventServerState through
// the emitter, as a real agent would.
type Fake struct {
	mu      sync.Mutex
	servers map[string]*FakeServer
	calls   []string
	emit    func(typ string, data any) error
	pending []wire.ServerState // reports made before an emitter was set
	// StartGate, when set, holds every start until it is closed (or the
	// request is cancelled), to test what happens meanwhile.
	StartGate chan struct{}
	// Imported counts the bytes of the last imported image archive.
	Imported int64
	// files serves the file API (see ServeFiles).
	files http.Handler
}

// FakeServer is what the fake knows of one server.
type FakeServer struct {
	Config   wire.ServerConfig
	Install  *wire.InstallRequest
	State    string
	Commands []string
}

// NewFake returns an agent that knows no servers.
func NewFake() *Fake { return &Fake{servers: map[string]*FakeServer{}} }

// SetEmitter sets where state reports go (usually Agent.Send).
func (f *Fake) SetEmitter(emit func(typ string, data any) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emit = emit
	for _, st := range f.pending {
		_ = emit(wire.EventServerState, st)
	}
	f.pending = nil
}

// Put makes the fake know a server in a state, as after an agent restart.
func (f *Fake) Put(id, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.servers[id] = &FakeServer{Config: wire.ServerConfig{ID: id}, State: state}
}

// Server returns a copy of what the fake knows of a server.
func (f *Fake) Server(id string) (FakeServer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.servers[id]
	if !ok {
		return FakeServer{}, false
	}
	return *s, true
}

// ServeFiles makes h serve every server's file API (the paths under
// wire.AgentServerPath(id, wire.FilesSuffix)), with the request as the
// core sent it; without it those paths answer 404.
func (f *Fake) ServeFiles(h http.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files = h
}

// Calls lists the requests served, as "METHOD path [action]".
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// States is what GET /v1/servers answers.
func (f *Fake) States() []wire.ServerState {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []wire.ServerState{}
	for id, s := range f.servers {
		out = append(out, wire.ServerState{ServerID: id, State: s.State})
	}
	return out
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg}})
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// setState changes a server's state and reports it; f.mu is held.
func (f *Fake) setState(s *FakeServer, state string) {
	s.State = state
	st := wire.ServerState{ServerID: s.Config.ID, State: state}
	if f.emit == nil {
		f.pending = append(f.pending, st)
		return
	}
	_ = f.emit(wire.EventServerState, st)
}

// ServeHTTP serves the agent API of sdk/wire/agentapi.go.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == wire.AgentPathImageImport && r.Method == http.MethodPost {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			fail(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
			return
		}
		f.mu.Lock()
		f.Imported = n
		f.calls = append(f.calls, "POST "+r.URL.Path)
		f.mu.Unlock()
		answer(w, http.StatusOK, wire.ImportResult{Images: []string{"example.com/imported:latest"}})
		return
	}
	if r.URL.Path == wire.AgentPathServers && r.Method == http.MethodGet {
		answer(w, http.StatusOK, f.States())
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, wire.AgentPathServers+"/")
	if !ok {
		fail(w, http.StatusNotFound, wire.CodeNotFound, "no route")
		return
	}
	id, suffix, _ := strings.Cut(rest, "/")
	if sub := "/" + suffix; sub == wire.FilesSuffix || strings.HasPrefix(sub, wire.FilesSuffix+"/") {
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		files := f.files
		f.mu.Unlock()
		if files == nil {
			fail(w, http.StatusNotFound, wire.CodeNotFound, "no file API in this fake")
			return
		}
		files.ServeHTTP(w, r)
		return
	}
	var body json.RawMessage
	if r.Method != http.MethodGet && r.Method != http.MethodDelete {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			fail(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
			return
		}
	}
	if suffix == "power" {
		var p wire.PowerRequest
		_ = json.Unmarshal(body, &p)
		if p.Action == wire.PowerStart && f.StartGate != nil {
			select {
			case <-f.StartGate:
			case <-r.Context().Done():
				return
			}
		}
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path+" "+p.Action)
		f.mu.Unlock()
		f.power(w, id, p.Action)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	s := f.servers[id]
	switch {
	case r.Method == http.MethodGet && suffix == "":
		if s == nil {
			fail(w, http.StatusNotFound, wire.CodeNotFound, "no such server")
			return
		}
		answer(w, http.StatusOK, wire.ServerState{ServerID: id, State: s.State})
	case r.Method == http.MethodPut && suffix == "":
		var cfg wire.ServerConfig
		if err := json.Unmarshal(body, &cfg); err != nil || cfg.ID != id {
			fail(w, http.StatusBadRequest, wire.CodeInvalid, "bad config")
			return
		}
		if s == nil {
			s = &FakeServer{State: wire.StateStopped}
			f.servers[id] = s
		}
		s.Config = cfg
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && suffix == "":
		delete(f.servers, id)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && suffix == "install":
		var req wire.InstallRequest
		if err := json.Unmarshal(body, &req); err != nil {
			fail(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
			return
		}
		if s != nil && (s.State == wire.StateRunning || s.State == wire.StateInstalling) {
			fail(w, http.StatusConflict, wire.CodeConflict, "server is "+s.State)
			return
		}
		if s == nil {
			s = &FakeServer{}
			f.servers[id] = s
		}
		s.Config, s.Install = req.Config, &req
		w.WriteHeader(http.StatusAccepted)
		f.setState(s, wire.StateInstalling)
		f.setState(s, wire.StateStopped)
	case r.Method == http.MethodGet && suffix == "logs":
		if s == nil {
			fail(w, http.StatusNotFound, wire.CodeNotFound, "no such server")
			return
		}
		answer(w, http.StatusOK, wire.ConsoleLog{Lines: append([]string{}, s.Commands...)})
	case r.Method == http.MethodPost && suffix == "command":
		var c wire.CommandRequest
		_ = json.Unmarshal(body, &c)
		if s == nil || s.State != wire.StateRunning {
			fail(w, http.StatusConflict, wire.CodeNotRunning, "server is not running")
			return
		}
		s.Commands = append(s.Commands, c.Command)
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(w, http.StatusNotFound, wire.CodeNotFound, "no route")
	}
}

func (f *Fake) power(w http.ResponseWriter, id, action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.servers[id]
	if s == nil {
		fail(w, http.StatusNotFound, wire.CodeNotFound, "no such server")
		return
	}
	running := s.State == wire.StateRunning || s.State == wire.StateStarting
	switch action {
	case wire.PowerStart:
		if running {
			fail(w, http.StatusConflict, wire.CodeConflict, "already running")
			return
		}
		w.WriteHeader(http.StatusNoContent)
		f.setState(s, wire.StateStarting)
		f.setState(s, wire.StateRunning)
	case wire.PowerStop:
		if !running {
			fail(w, http.StatusConflict, wire.CodeConflict, "not running")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		f.setState(s, wire.StateStopping)
		f.setState(s, wire.StateStopped)
	case wire.PowerRestart:
		w.WriteHeader(http.StatusAccepted)
		if running {
			f.setState(s, wire.StateStopping)
			f.setState(s, wire.StateStopped)
		}
		f.setState(s, wire.StateStarting)
		f.setState(s, wire.StateRunning)
	case wire.PowerKill:
		w.WriteHeader(http.StatusNoContent)
		// Reported even when nothing ran, as the real agent does, so the
		// core converges.
		f.setState(s, wire.StateStopped)
	default:
		fail(w, http.StatusBadRequest, wire.CodeInvalid, "unknown action")
	}
}

// Connect dials the core with f as the agent API and makes f report its
// state changes over the tunnel.
func (f *Fake) Connect(ctx context.Context, cfg Config) (*Agent, error) {
	cfg.Handler = f
	a, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	f.SetEmitter(a.Send)
	return a, nil
}

// Emit sends any event over the tunnel, as the agent would (console
// output, stats); it fails before Connect.
func (f *Fake) Emit(typ string, data any) error {
	f.mu.Lock()
	emit := f.emit
	f.mu.Unlock()
	if emit == nil {
		return errors.New("gatewaytest: Emit before Connect")
	}
	return emit(typ, data)
}
