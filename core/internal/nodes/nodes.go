// Package nodes registers the machines that run the agent: creating a
// node with a one-time deployment token, exchanging that token for the
// agent's lasting credential, and checking the credential when an agent
// connects.
package nodes

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/store"
)

// Token prefixes let people and secret scanners tell the two apart.
const (
	deployPrefix     = "catd_"
	credentialPrefix = "catn_"
	// DeployTokenTTL is how long a deployment token can be exchanged.
	DeployTokenTTL = 24 * time.Hour
)

// ErrInvalidToken is a deployment token that is unknown, spent or expired,
// or a credential that does not match.
var ErrInvalidToken = errors.New("invalid, spent or expired node token")

// Service manages nodes.
type Service struct {
	store *store.Store
	now   func() time.Time
}

// NewService returns a Service on s.
func NewService(s *store.Store) *Service { return &Service{store: s, now: time.Now} }

// NewNode is what creating a node takes.
type NewNode struct {
	Name     string
	FQDN     string
	MemoryMB int64
	DiskMB   int64
	// Overallocation percentages; -1 disables the check.
	MemoryOverallocate int
	DiskOverallocate   int
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$`)
	fqdnRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

func (n NewNode) validate() error {
	switch {
	case !nameRE.MatchString(n.Name):
		return &accounts.ValidationError{Field: "name", Message: "must be 1-64 letters, digits, spaces, '.', '_' or '-'"}
	case !fqdnRE.MatchString(n.FQDN) || len(n.FQDN) > 253:
		return &accounts.ValidationError{Field: "fqdn", Message: fmt.Sprintf("%q is not a host name or IP address", n.FQDN)}
	case n.MemoryMB <= 0:
		return &accounts.ValidationError{Field: "memory_mb", Message: "must be positive"}
	case n.DiskMB <= 0:
		return &accounts.ValidationError{Field: "disk_mb", Message: "must be positive"}
	case n.MemoryOverallocate < -1 || n.DiskOverallocate < -1:
		return &accounts.ValidationError{Field: "overallocate", Message: "must be -1 (unchecked), 0 or a positive percentage"}
	}
	return nil
}

// Create stores a node and returns it with its deployment token, which is
// shown once.
func (s *Service) Create(ctx context.Context, n NewNode) (*store.Node, string, error) {
	n.Name, n.FQDN = strings.TrimSpace(n.Name), strings.ToLower(strings.TrimSpace(n.FQDN))
	if err := n.validate(); err != nil {
		return nil, "", err
	}
	token := deployPrefix + auth.RandomToken(32)
	exp := s.now().Add(DeployTokenTTL).UTC()
	node := &store.Node{Name: n.Name, FQDN: n.FQDN, MemoryMB: n.MemoryMB, DiskMB: n.DiskMB,
		MemoryOverallocate: n.MemoryOverallocate, DiskOverallocate: n.DiskOverallocate,
		DeployTokenHash: auth.HashSecret(token), DeployTokenExpiresAt: &exp}
	if err := s.store.CreateNode(ctx, node); err != nil {
		return nil, "", err
	}
	return node, token, nil
}

// NewDeployToken replaces a node's deployment token, for re-enrolling a
// reinstalled machine. The node's current credential keeps working until
// the new token is exchanged.
func (s *Service) NewDeployToken(ctx context.Context, node *store.Node) (string, error) {
	token := deployPrefix + auth.RandomToken(32)
	exp := s.now().Add(DeployTokenTTL).UTC()
	node.DeployTokenHash, node.DeployTokenExpiresAt = auth.HashSecret(token), &exp
	if err := s.store.UpdateNode(ctx, node, "deploy_token_hash", "deploy_token_expires_at"); err != nil {
		return "", err
	}
	return token, nil
}

// Enrol spends a deployment token and returns the node with its lasting
// credential (shown once, to the agent).
func (s *Service) Enrol(ctx context.Context, token string) (*store.Node, string, error) {
	if !strings.HasPrefix(token, deployPrefix) {
		return nil, "", ErrInvalidToken
	}
	h := auth.HashSecret(token)
	node, err := s.store.NodeByDeployToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", ErrInvalidToken
	}
	if err != nil {
		return nil, "", err
	}
	if node.DeployTokenExpiresAt == nil || s.now().After(*node.DeployTokenExpiresAt) {
		return nil, "", ErrInvalidToken
	}
	credential := credentialPrefix + auth.RandomToken(32)
	if err := s.store.EnrolNode(ctx, node.ID, h, auth.HashSecret(credential)); errors.Is(err, store.ErrNotFound) {
		return nil, "", ErrInvalidToken
	} else if err != nil {
		return nil, "", err
	}
	return node, credential, nil
}

// Authenticate checks an agent's node ID and credential.
func (s *Service) Authenticate(ctx context.Context, nodeID, credential string) (*store.Node, error) {
	node, err := s.store.NodeByID(ctx, nodeID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if node.CredentialHash == "" || subtle.ConstantTimeCompare([]byte(auth.HashSecret(credential)), []byte(node.CredentialHash)) != 1 {
		return nil, ErrInvalidToken
	}
	return node, nil
}

// AgentCommand is the exact command an operator runs on the new node.
func AgentCommand(coreURL, token string) string {
	return "catalyst-agent configure --core " + coreURL + " --token " + token + " && catalyst-agent run"
}

// AddAllocations gives node nodeID the allocations ip:port for each port
// of specs (see ParsePorts). A bad address or port list is a
// *accounts.ValidationError naming "ip" or "ports"; an existing pair makes
// the whole call store.ErrConflict.
func (s *Service) AddAllocations(ctx context.Context, nodeID, ip string, specs []string) ([]*store.Allocation, error) {
	ip, ports, err := ParseAllocations(ip, specs)
	if err != nil {
		return nil, err
	}
	return s.store.CreateAllocations(ctx, nodeID, ip, ports)
}

// ParseAllocations checks an allocation request: an IP address and port
// lists (see ParsePorts). It returns the address trimmed and the ports.
func ParseAllocations(ip string, specs []string) (string, []int, error) {
	ip = strings.TrimSpace(ip)
	if _, err := netip.ParseAddr(ip); err != nil {
		return "", nil, &accounts.ValidationError{Field: "ip", Message: fmt.Sprintf("%q is not an IP address", ip)}
	}
	ports, err := ParsePorts(specs)
	return ip, ports, err
}

// ParsePorts reads port lists such as "25565", "25565-25570" into ports,
// refusing ranges over 1000 ports.
func ParsePorts(specs []string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, spec := range specs {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(spec), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
			return nil, &accounts.ValidationError{Field: "ports", Message: fmt.Sprintf("%q is not a port or range such as 25565-25570 within 1-65535", spec)}
		}
		if b-a >= 1000 {
			return nil, &accounts.ValidationError{Field: "ports", Message: fmt.Sprintf("%q spans more than 1000 ports", spec)}
		}
		for p := a; p <= b; p++ {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, &accounts.ValidationError{Field: "ports", Message: "name at least one port"}
	}
	return out, nil
}
