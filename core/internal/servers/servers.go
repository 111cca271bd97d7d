// Package servers is the server state machine and the service behind the
// server API: creating, changing and deleting servers, power actions and
// console commands, each validated and persisted before the node's agent is
// asked, and the agent's reports checked against the same machine.
package servers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/varrules"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// Errors callers branch on; the API maps them to statuses.
var (
	// ErrBusy is a power action while another runs on the same server.
	ErrBusy = errors.New("another power action is in progress on this server; try again when it ends")
	// ErrNodeMaintenance is a new server on a node in maintenance.
	ErrNodeMaintenance = errors.New("node is in maintenance and takes no new servers")
	// ErrInsufficientResources is a server that does not fit its node.
	ErrInsufficientResources = errors.New("not enough free resources on the node")
	// ErrNoAllocation is a node without a free ip:port for a new server.
	ErrNoAllocation = errors.New("no free allocation on the node")
)

// ResourceError names the resource a node lacks. It is
// ErrInsufficientResources.
type ResourceError struct {
	Node      string
	Resource  string // "memory" or "disk"
	Requested int64  // MiB
	Free      int64  // MiB, after overallocation; may be negative
}

func (e *ResourceError) Error() string {
	return fmt.Sprintf("node %s has %d MiB of %s left for servers; %d MiB requested", e.Node, max(e.Free, 0), e.Resource, e.Requested)
}

// Is makes errors.Is(err, ErrInsufficientResources) true.
func (e *ResourceError) Is(target error) bool { return target == ErrInsufficientResources }

// Agents finds a node's agent; *gateway.Gateway is one.
type Agents interface {
	Agent(nodeID string) (*gateway.Client, error)
}

// Options tunes the service; zero fields take the defaults.
type Options struct {
	// StopTimeout is how long a stop command gets before the agent
	// terminates the process (30s).
	StopTimeout time.Duration
	// AgentTimeout bounds one call to an agent (2m: a start answers once
	// the process runs).
	AgentTimeout time.Duration
}

// Service runs servers.
type Service struct {
	store  *store.Store
	agents Agents
	log    hclog.Logger
	opts   Options

	power powerLocks
	// placeMu serialises resource checks with the writes they allow, so
	// two creates cannot both take a node's last free memory. One core
	// process places servers; several replicas would need a row lock.
	placeMu sync.Mutex

	killedMu sync.Mutex
	killed   map[string]bool // servers killed on purpose: their exit is not a crash

	observers         []Observer
	waiters           stateWaiters
	transferObservers []func(TransferEvent)

	reserve Reserver

	// bg runs transfers; bgCtx ends them when the service closes.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc
}

// New returns the service.
func New(s *store.Store, agents Agents, log hclog.Logger, opts Options) *Service {
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 30 * time.Second
	}
	if opts.AgentTimeout <= 0 {
		opts.AgentTimeout = 2 * time.Minute
	}
	bgCtx, bgCancel := context.WithCancel(context.Background())
	return &Service{store: s, agents: agents, log: log, opts: opts, power: powerLocks{held: map[string]bool{}}, killed: map[string]bool{},
		bgCtx: bgCtx, bgCancel: bgCancel}
}

// Close ends the transfers under way (each rolls back: the server stays
// on its node) and waits for them.
func (s *Service) Close() {
	s.bgCancel()
	s.bg.Wait()
}

// powerLocks is a one-slot lock per server: one power action at a time,
// and a second is refused rather than queued (the user sees the first one
// still running). Kill does not take it.
type powerLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

// busy reports whether an action (a transfer among them) holds id's lock.
func (l *powerLocks) busy(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[id]
}

func (l *powerLocks) try(id string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] {
		return nil, false
	}
	l.held[id] = true
	return func() {
		l.mu.Lock()
		delete(l.held, id)
		l.mu.Unlock()
	}, true
}

// Actor is who asks.
type Actor struct {
	UserID string
	Admin  bool
}

// Limits on what a server may be given.
const (
	MaxMemoryMB   = 1 << 20   // 1 TiB
	MaxDiskMB     = 100 << 20 // 100 TiB
	MaxCPUPercent = 100 * 512 // 512 cores
	MaxPids       = 1 << 20
	DefaultPids   = 2048
	MaxCommand    = 4096
	maxEnvValue   = 4096
)

var nameRE = regexp.MustCompile(`^[^\x00-\x1f\x7f]{1,64}$`)

// NewServer is what creating a server takes.
type NewServer struct {
	Name        string
	Description string
	OwnerID     string
	NodeID      string
	TemplateID  string
	// Image defaults to the template's first.
	Image      string
	MemoryMB   int64
	CPUPercent int64
	DiskMB     int64
	// PidsLimit defaults to DefaultPids.
	PidsLimit   int64
	Environment map[string]string
	// AllocationID defaults to the node's first free allocation.
	AllocationID string
	// Restart defaults to the default policy.
	Restart *RestartPolicy
}

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func validateName(name, desc string) error {
	if !nameRE.MatchString(name) || strings.TrimSpace(name) == "" {
		return invalid("name", "must be 1-64 characters, without control characters")
	}
	if len(desc) > 1024 || !utf8.ValidString(desc) || strings.ContainsRune(desc, 0) {
		return invalid("description", "must be at most 1024 bytes of text, without NUL")
	}
	return nil
}

func validateResources(mem, cpu, disk, pids int64) error {
	switch {
	case mem <= 0 || mem > MaxMemoryMB:
		return invalid("memory_mb", "must be between 1 and %d", MaxMemoryMB)
	case cpu <= 0 || cpu > MaxCPUPercent:
		return invalid("cpu_percent", "must be between 1 and %d (100 is one core)", MaxCPUPercent)
	case disk <= 0 || disk > MaxDiskMB:
		return invalid("disk_mb", "must be between 1 and %d", MaxDiskMB)
	case pids < 0 || pids > MaxPids:
		return invalid("pids_limit", "must be between 1 and %d (0 for the default %d)", MaxPids, DefaultPids)
	}
	return nil
}

// validateEnvironment allows only the template's variables, those marked
// user_editable unless an administrator asks, each value passing its
// variable's rules. A problem is a field error on "environment.<NAME>".
func validateEnvironment(env map[string]string, tmpl *store.Template, admin bool) error {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v, field := env[k], "environment."+k
		i := slices.IndexFunc(tmpl.Variables, func(tv store.TemplateVariable) bool { return tv.EnvName == k })
		switch {
		case i < 0:
			return invalid(field, "is not a variable of template %s", tmpl.Name)
		case !admin && !tmpl.Variables[i].UserEditable:
			return invalid(field, "is not editable")
		case len(v) > maxEnvValue || !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			return invalid(field, "must be text of at most %d bytes", maxEnvValue)
		}
		if err := checkRules(field, tmpl.Variables[i], v); err != nil {
			return err
		}
	}
	return nil
}

// validateRequired checks the variables a new server is given no value for:
// their defaults must pass their rules, so a variable whose rules require a
// value and that has no default must be given one.
func validateRequired(env map[string]string, tmpl *store.Template) error {
	for _, tv := range tmpl.Variables {
		if _, given := env[tv.EnvName]; given {
			continue
		}
		if err := checkRules("environment."+tv.EnvName, tv, tv.Default); err != nil {
			return err
		}
	}
	return nil
}

func checkRules(field string, tv store.TemplateVariable, value string) error {
	rules, err := varrules.Parse(tv.Rules)
	if err != nil {
		return invalid(field, "the template's rules for this variable cannot be read (%v); an administrator must fix the template", err)
	}
	if err := rules.Check(value); err != nil {
		return invalid(field, "%v", err)
	}
	return nil
}

// maxImageRef bounds an image reference.
const maxImageRef = 512

// ValidImageRef reports whether ref may be an image reference: 1 to 512
// bytes without blanks or NUL. Whether it names an image is the
// registry's to say when a node pulls it.
func ValidImageRef(ref string) bool {
	return ref != "" && len(ref) <= maxImageRef && !strings.ContainsAny(ref, " \t\r\n\x00")
}

// validateImage allows one of the template's images, or any reference when
// an administrator asks.
func validateImage(image string, tmpl *store.Template, admin bool) error {
	refs := tmpl.ImageRefs()
	switch {
	case !ValidImageRef(image):
		return invalid("image", "%q is not an image reference", image)
	case !admin && !slices.Contains(refs, image):
		return invalid("image", "must be one of the template's images %q", refs)
	}
	return nil
}

// CheckStartup checks a command line, a template's or a server's own: at
// most MaxCommand bytes of text that SplitArgs can split into words. A
// problem is a field error on "startup".
func CheckStartup(line string) error {
	switch {
	case line == "":
		return invalid("startup", "is required: the command line that runs the game")
	case len(line) > MaxCommand || !utf8.ValidString(line) || strings.ContainsRune(line, 0):
		return invalid("startup", "must be text of at most %d bytes", MaxCommand)
	}
	if _, err := SplitArgs(line); err != nil {
		return invalid("startup", "%v", err)
	}
	return nil
}

// validateStartup checks a server's own command line: administrators
// only, since it runs whatever it names inside the server's container.
func validateStartup(line string, admin bool) error {
	if !admin {
		return invalid("startup", "only administrators change a server's command line")
	}
	return CheckStartup(line)
}

// checkFits refuses memory or disk beyond what the node offers servers,
// overallocation included (-1: unchecked).
func checkFits(n *store.Node, used store.NodeUsage, memMB, diskMB int64) error {
	check := func(resource string, total int64, over int, used, want int64) error {
		if over < 0 {
			return nil
		}
		free := total*int64(100+over)/100 - used
		if want > free {
			return &ResourceError{Node: n.Name, Resource: resource, Requested: want, Free: free}
		}
		return nil
	}
	if err := check("memory", n.MemoryMB, n.MemoryOverallocate, used.MemoryMB, memMB); err != nil {
		return err
	}
	return check("disk", n.DiskMB, n.DiskOverallocate, used.DiskMB, diskMB)
}

// Create validates and stores a server in state installing, then asks the
// node's agent to install it. A node that is offline keeps the server
// installing: the install is sent when its agent connects (see OnHello).
// An agent that refuses the install leaves the server install_failed with
// the agent's reason.
func (s *Service) Create(ctx context.Context, in NewServer, by Actor) (*store.Server, error) {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.PidsLimit == 0 {
		in.PidsLimit = DefaultPids
	}
	if err := validateName(in.Name, in.Description); err != nil {
		return nil, err
	}
	if err := validateResources(in.MemoryMB, in.CPUPercent, in.DiskMB, in.PidsLimit); err != nil {
		return nil, err
	}
	if in.OwnerID == "" {
		in.OwnerID = by.UserID
	}
	if in.OwnerID != by.UserID && !by.Admin {
		return nil, invalid("owner_id", "only administrators create servers for others")
	}
	if _, err := s.store.UserByID(ctx, in.OwnerID); err != nil {
		return nil, notFoundAs(err, "owner_id", "no such user")
	}
	tmpl, err := s.store.TemplateByID(ctx, in.TemplateID)
	if err != nil {
		return nil, notFoundAs(err, "template_id", "no such template")
	}
	if in.Image == "" && len(tmpl.Images) > 0 {
		in.Image = tmpl.Images[0].Image
	}
	if err := validateImage(in.Image, tmpl, by.Admin); err != nil {
		return nil, err
	}
	if err := validateEnvironment(in.Environment, tmpl, by.Admin); err != nil {
		return nil, err
	}
	if err := validateRequired(in.Environment, tmpl); err != nil {
		return nil, err
	}
	if in.Restart != nil {
		if err := in.Restart.validate(); err != nil {
			return nil, err
		}
	}

	s.placeMu.Lock()
	srv, err := s.place(ctx, in, tmpl)
	s.placeMu.Unlock()
	if err != nil {
		return nil, err
	}
	s.log.Info("server created", "server", srv.ID, "node", srv.NodeID, "template", tmpl.Name)
	// The server exists now: a client that hangs up must not stop its
	// install from being sent.
	s.sendInstall(context.WithoutCancel(ctx), srv, tmpl)
	return s.store.ServerByID(ctx, srv.ID)
}

// place checks the node has room and stores the server with its
// allocation; placeMu is held.
func (s *Service) place(ctx context.Context, in NewServer, tmpl *store.Template) (*store.Server, error) {
	node, err := s.store.NodeByID(ctx, in.NodeID)
	if err != nil {
		return nil, notFoundAs(err, "node_id", "no such node")
	}
	if node.Maintenance {
		return nil, fmt.Errorf("%w: %s", ErrNodeMaintenance, node.Name)
	}
	used, err := s.store.NodeUsage(ctx, node.ID, "")
	if err != nil {
		return nil, err
	}
	if err := checkFits(node, used, in.MemoryMB, in.DiskMB); err != nil {
		return nil, err
	}
	allocID := in.AllocationID
	if allocID == "" {
		free, err := s.store.FreeAllocations(ctx, node.ID)
		if err != nil {
			return nil, err
		}
		if len(free) == 0 {
			return nil, fmt.Errorf("%w: node %s has every ip:port assigned; add allocations to it", ErrNoAllocation, node.Name)
		}
		allocID = free[0].ID
	}
	srv := &store.Server{
		Name: in.Name, Description: in.Description, OwnerID: in.OwnerID, NodeID: node.ID, TemplateID: tmpl.ID,
		State: store.StateInstalling, MemoryMB: in.MemoryMB, CPUPercent: in.CPUPercent, DiskMB: in.DiskMB,
		PidsLimit: in.PidsLimit, Image: in.Image, Startup: tmpl.Startup, Environment: in.Environment,
	}
	if in.Restart != nil {
		setPolicy(srv, *in.Restart)
	}
	if err := s.store.CreateServer(ctx, srv, []string{allocID}); err != nil {
		if errors.Is(err, store.ErrAllocationTaken) {
			return nil, invalid("allocation_id", "is not a free allocation of node %s", node.Name)
		}
		return nil, err
	}
	return srv, nil
}

// sendInstall asks the agent to install srv, which is installing. An
// agent's refusal fails the install; no answer leaves it installing for
// the next reconnect to resend.
func (s *Service) sendInstall(ctx context.Context, srv *store.Server, tmpl *store.Template) {
	log := s.log.With("server", srv.ID, "node", srv.NodeID)
	agent, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		log.Info("node offline: the install is sent when its agent connects")
		return
	}
	full, err := s.store.ServerByID(ctx, srv.ID)
	if err != nil {
		log.Error("load server for install", "error", err)
		return
	}
	if err := s.install(ctx, agent, full, tmpl); err != nil {
		log.Warn("install not started", "error", err)
	}
}

// install sends an install; an agent's refusal is recorded as
// install_failed with its message.
func (s *Service) install(ctx context.Context, agent *gateway.Client, srv *store.Server, tmpl *store.Template) error {
	req, err := InstallRequest(srv, tmpl, s.opts.StopTimeout)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
		err = agent.Install(ctx, srv.ID, req)
		cancel()
	}
	var ae *gateway.AgentError
	var reason string
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae) && ae.Code == wire.CodeConflict:
		// The node is installing it already: the install was sent twice,
		// by Create and by a reconnect's reconcile that raced it. The
		// running install's reports settle the state.
		s.log.Info("the node is installing the server already", "server", srv.ID, "node", srv.NodeID)
		return nil
	case errors.As(err, &ae):
		reason = "install could not start: " + ae.Message
	case errors.Is(err, gateway.ErrUnreachable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Whether it started is unknown: the agent's reports, or the
		// next reconnect, will tell.
		return err
	default:
		reason = "install could not start: " + err.Error()
	}
	if terr := s.transition(context.WithoutCancel(ctx), srv.ID, store.StateInstalling, store.Transition{
		To: store.StateInstallFailed, Reason: reason, From: []string{store.StateInstalling},
	}); terr != nil && !errors.Is(terr, store.ErrNotFound) {
		s.log.Error("record failed install", "server", srv.ID, "error", terr)
	}
	return err
}

// notFoundAs turns a missing referenced row into a field error.
func notFoundAs(err error, field, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return invalid(field, "%s", msg)
	}
	return err
}

// Update is a change to a server; nil fields stay as they are.
type Update struct {
	Name        *string
	Description *string
	MemoryMB    *int64
	CPUPercent  *int64
	DiskMB      *int64
	// Environment sets the given variables; the others keep their values.
	Environment map[string]string
	// Image is one of the template's images (administrators: any).
	Image *string
	// Startup replaces the command line; administrators only.
	Startup *string
	// Restart replaces the restart policy.
	Restart *RestartPolicy
	// BackupLimit sets how many backups the server keeps (0: none, -1:
	// the core's default); administrators only.
	BackupLimit *int
}

// MaxBackupLimit bounds a server's backup limit.
const MaxBackupLimit = 1000

// Update changes cur, a server as loaded, and returns it changed (cur
// itself is left alone). Resource changes are checked against the node
// again. A new environment or new resources are pushed to a connected
// agent and take effect at the next start (every start pushes the config
// again, so an offline node catches up).
func (s *Service) Update(ctx context.Context, cur *store.Server, u Update, by Actor) (*store.Server, error) {
	srv := new(store.Server)
	*srv = *cur
	resized := u.MemoryMB != nil || u.CPUPercent != nil || u.DiskMB != nil
	var tmpl *store.Template // loaded when what the agent runs changes
	if u.Environment != nil || resized || u.Restart != nil || u.Image != nil || u.Startup != nil {
		var err error
		if tmpl, err = s.store.TemplateByID(ctx, srv.TemplateID); err != nil {
			return nil, err
		}
	}
	var cols []string
	if u.Name != nil || u.Description != nil {
		name, desc := srv.Name, srv.Description
		if u.Name != nil {
			name = strings.TrimSpace(*u.Name)
		}
		if u.Description != nil {
			desc = strings.TrimSpace(*u.Description)
		}
		if err := validateName(name, desc); err != nil {
			return nil, err
		}
		srv.Name, srv.Description = name, desc
		cols = append(cols, "name", "description")
	}
	if u.Environment != nil {
		if err := validateEnvironment(u.Environment, tmpl, by.Admin); err != nil {
			return nil, err
		}
		env := maps.Clone(srv.Environment)
		if env == nil {
			env = map[string]string{}
		}
		maps.Copy(env, u.Environment)
		srv.Environment = env
		cols = append(cols, "environment")
	}
	if u.Image != nil {
		if err := validateImage(*u.Image, tmpl, by.Admin); err != nil {
			return nil, err
		}
		srv.Image = *u.Image
		cols = append(cols, "image")
	}
	if u.Startup != nil {
		startup := strings.TrimSpace(*u.Startup)
		if err := validateStartup(startup, by.Admin); err != nil {
			return nil, err
		}
		srv.Startup = startup
		cols = append(cols, "startup")
	}
	if resized {
		mem, cpu, disk := deref(u.MemoryMB, srv.MemoryMB), deref(u.CPUPercent, srv.CPUPercent), deref(u.DiskMB, srv.DiskMB)
		if err := validateResources(mem, cpu, disk, srv.PidsLimit); err != nil {
			return nil, err
		}
		srv.MemoryMB, srv.CPUPercent, srv.DiskMB = mem, cpu, disk
		cols = append(cols, "memory_mb", "cpu_percent", "disk_mb")
	}
	if u.Restart != nil {
		if err := u.Restart.validate(); err != nil {
			return nil, err
		}
		cols = append(cols, setPolicy(srv, *u.Restart)...)
	}
	if u.BackupLimit != nil {
		switch n := *u.BackupLimit; {
		case !by.Admin:
			return nil, invalid("backup_limit", "only administrators change a server's backup limit")
		case n < -1 || n > MaxBackupLimit:
			return nil, invalid("backup_limit", "must be from 0 (no backups) to %d, or -1 for the core's default", MaxBackupLimit)
		case n == -1:
			srv.BackupLimit = nil
		default:
			srv.BackupLimit = &n
		}
		cols = append(cols, "backup_limit")
	}
	if len(cols) == 0 {
		return srv, nil
	}
	if err := s.saveUpdate(ctx, srv, resized, cols); err != nil {
		return nil, err
	}
	if tmpl != nil && srv.State != store.StateInstalling {
		if err := s.configure(ctx, srv, tmpl); err != nil && !errors.Is(err, gateway.ErrNodeOffline) {
			s.log.Warn("updated config not pushed; the next start pushes it", "server", srv.ID, "error", err)
		}
	}
	return srv, nil
}

func (s *Service) saveUpdate(ctx context.Context, srv *store.Server, resized bool, cols []string) error {
	if !resized {
		return s.store.UpdateServer(ctx, srv, cols...)
	}
	s.placeMu.Lock()
	defer s.placeMu.Unlock()
	node, err := s.store.NodeByID(ctx, srv.NodeID)
	if err != nil {
		return err
	}
	used, err := s.store.NodeUsage(ctx, node.ID, srv.ID)
	if err != nil {
		return err
	}
	if err := checkFits(node, used, srv.MemoryMB, srv.DiskMB); err != nil {
		return err
	}
	return s.store.UpdateServer(ctx, srv, cols...)
}

func deref(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}

// configure pushes srv's run config to its node's agent.
func (s *Service) configure(ctx context.Context, srv *store.Server, tmpl *store.Template) error {
	agent, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return err
	}
	return s.configureOn(ctx, agent, srv, tmpl)
}

func (s *Service) configureOn(ctx context.Context, agent *gateway.Client, srv *store.Server, tmpl *store.Template) error {
	cfg, err := RunConfig(srv, tmpl, s.opts.StopTimeout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	defer cancel()
	return agent.ConfigureServer(ctx, cfg)
}

// Power runs a power action: the transition is checked and stored, then
// the agent is asked; if it fails, the state goes back and the error is
// returned. The agent's reports then carry the server on (starting →
// running, stopping → stopped). Kill changes no state itself: the server
// follows the agent's report of the exit.
func (s *Service) Power(ctx context.Context, id, act string) (*store.Server, error) {
	a, ok := actions[act]
	if !ok {
		return nil, invalid("action", "must be one of %s", strings.Join(Actions(), ", "))
	}
	if act != ActionKill {
		release, ok := s.power.try(id)
		if !ok {
			return nil, ErrBusy
		}
		defer release()
	}
	srv, err := s.store.ServerByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(a.from, srv.State) {
		return nil, &StateError{Action: act, State: srv.State}
	}
	agent, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return nil, err
	}
	if a.to != "" {
		if err := s.transition(ctx, id, srv.State, store.Transition{To: a.to, From: []string{srv.State}}); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, s.stateConflict(ctx, id, act)
			}
			return nil, err
		}
	} else {
		s.markKilled(id, true)
	}
	if err := s.powerOn(ctx, agent, srv, act); err != nil {
		if a.to != "" {
			s.rollback(ctx, id, a.to, srv.State, act, err)
		} else {
			s.markKilled(id, false)
		}
		return nil, err
	}
	s.log.Info("power action", "server", id, "action", act, "from", srv.State)
	return s.store.ServerByID(ctx, id)
}

// powerOn sends a power action. Before a start the agent gets the current
// config: it recreates a stopped server's container from the last one it
// was given.
func (s *Service) powerOn(ctx context.Context, agent *gateway.Client, srv *store.Server, act string) error {
	if act == ActionStart || act == ActionRestart {
		tmpl, err := s.store.TemplateByID(ctx, srv.TemplateID)
		if err != nil {
			return err
		}
		if err := s.configureOn(ctx, agent, srv, tmpl); err != nil {
			return fmt.Errorf("push config before %s: %w", act, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	defer cancel()
	return agent.Power(ctx, srv.ID, act)
}

// rollback returns a server to the state it had before a failed command,
// unless an agent report has moved it on since.
func (s *Service) rollback(ctx context.Context, id, from, to, act string, cause error) {
	reason := act + " failed: " + cause.Error()
	var ae *gateway.AgentError
	if errors.As(cause, &ae) {
		reason = act + " failed: " + ae.Message
	}
	err := s.transition(context.WithoutCancel(ctx), id, from, store.Transition{To: to, From: []string{from}, Reason: reason})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("roll back state after a failed command", "server", id, "action", act, "error", err)
	}
}

// stateConflict re-reads a server whose compare-and-set lost a race.
func (s *Service) stateConflict(ctx context.Context, id, act string) error {
	srv, err := s.store.ServerByID(ctx, id)
	if err != nil {
		return err
	}
	return &StateError{Action: act, State: srv.State}
}

func (s *Service) markKilled(id string, killed bool) {
	s.killedMu.Lock()
	defer s.killedMu.Unlock()
	if killed {
		s.killed[id] = true
	} else {
		delete(s.killed, id)
	}
}

// takeKilled reports, once, whether the server was killed on purpose.
func (s *Service) takeKilled(id string) bool {
	s.killedMu.Lock()
	defer s.killedMu.Unlock()
	k := s.killed[id]
	delete(s.killed, id)
	return k
}

// Command writes a line to the console of srv, a server as loaded, when
// its state says it runs (the agent checks again).
func (s *Service) Command(ctx context.Context, srv *store.Server, line string) error {
	if len(line) == 0 || len(line) > MaxCommand || strings.ContainsAny(line, "\r\n\x00") || !utf8.ValidString(line) {
		return invalid("command", "must be one line of 1 to %d bytes", MaxCommand)
	}
	if !slices.Contains(commandStates, srv.State) {
		return &StateError{Action: "send a command to", State: srv.State}
	}
	agent, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	defer cancel()
	return agent.Command(ctx, srv.ID, line)
}

// Logs returns up to lines (1 to wire.MaxLogLines) of srv's newest
// console lines, which live on its node.
func (s *Service) Logs(ctx context.Context, srv *store.Server, lines int) ([]string, error) {
	if lines < 1 || lines > wire.MaxLogLines {
		return nil, invalid("lines", "must be from 1 to %d", wire.MaxLogLines)
	}
	agent, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	defer cancel()
	return agent.Logs(ctx, srv.ID, lines)
}

// Reinstall runs the template's installer again on the server's volume.
func (s *Service) Reinstall(ctx context.Context, id string) (*store.Server, error) {
	release, ok := s.power.try(id)
	if !ok {
		return nil, ErrBusy
	}
	defer release()
	srv, err := s.store.ServerByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(reinstallFrom, srv.State) {
		return nil, &StateError{Action: "reinstall", State: srv.State}
	}
	tmpl, err := s.store.TemplateByID(ctx, srv.TemplateID)
	if err != nil {
		return nil, err
	}
	agent, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return nil, err
	}
	req, err := InstallRequest(srv, tmpl, s.opts.StopTimeout)
	if err != nil {
		return nil, err
	}
	if err := s.transition(ctx, id, srv.State, store.Transition{To: store.StateInstalling, From: []string{srv.State}}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, s.stateConflict(ctx, id, "reinstall")
		}
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	err = agent.Install(callCtx, id, req)
	cancel()
	if err != nil {
		s.rollback(ctx, id, store.StateInstalling, srv.State, "reinstall", err)
		return nil, err
	}
	s.log.Info("server reinstalling", "server", id)
	return s.store.ServerByID(ctx, id)
}

// Delete removes srv from its node (process, container, snapshot, volume)
// and then from the database, freeing its allocations. The node must be
// online: a server left on a node would keep its files and ports.
func (s *Service) Delete(ctx context.Context, srv *store.Server) error {
	id := srv.ID
	release, ok := s.power.try(id)
	if !ok {
		return ErrBusy
	}
	defer release()
	agent, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	err = agent.DeleteServer(callCtx, id)
	cancel()
	if err != nil {
		return err
	}
	if err := s.store.DeleteServer(ctx, id); err != nil {
		return err
	}
	s.log.Info("server deleted", "server", id, "node", srv.NodeID)
	return nil
}
