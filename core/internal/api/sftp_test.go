package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/sftpauth"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// keyLine writes an authorized_keys line for a key given by its wire
// fields, so that keys this code refuses to make (DSA, short RSA) can
// still be offered.
func keyLine(algo string, fields ...*big.Int) string {
	b := ssh.Marshal(struct{ Algo string }{algo})
	for _, f := range fields {
		b = append(b, ssh.Marshal(struct{ N *big.Int }{f})...)
	}
	return algo + " " + base64.StdEncoding.EncodeToString(b) + " test@example"
}

// rsaLine is an RSA public key of the given modulus size. Its modulus is
// no product of primes: only the size is looked at.
func rsaLine(bits int) string {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(1))
	return keyLine(ssh.KeyAlgoRSA, big.NewInt(65537), n)
}

func dsaLine() string {
	p := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 1023), big.NewInt(1))
	q := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))
	return keyLine("ssh-dss", p, q, big.NewInt(2), big.NewInt(3))
}

func ecdsaLine(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
}

func TestAddingSSHKeys(t *testing.T) {
	f := newFixture(t, "", nil)
	ed := testPublicKey(t)
	cases := []struct {
		name   string
		key    string
		status int
		// inMessage is part of the refusal's message.
		inMessage string
	}{
		{"ed25519", ed, 201, ""},
		{"ecdsa", ecdsaLine(t), 201, ""},
		{"rsa of 2048 bits", rsaLine(2048), 201, ""},
		{"the same key again", ed, 409, ""},
		{"dsa", dsaLine(), 422, "ssh-dss is not accepted"},
		{"rsa of 1024 bits", rsaLine(1024), 422, "at least 2048 bits"},
		{"garbage", "ssh-ed25519 not-base64!!", 422, "not an OpenSSH public key"},
		{"empty", "", 422, "not an OpenSSH public key"},
		{"with options", `command="rm -rf /",no-pty ` + testPublicKey(t), 422, "options"},
		{"two keys", testPublicKey(t) + "\n" + testPublicKey(t), 422, "more than one key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := f.do(roleOwner, "POST", "/api/account/ssh-keys", map[string]string{"name": "k", "public_key": tc.key})
			if got.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", got.Status, tc.status, got.Body)
			}
			switch {
			case tc.status == 201:
				var v sshKeyView
				if err := json.Unmarshal(got.Data, &v); err != nil || !strings.HasPrefix(v.Fingerprint, "SHA256:") || strings.Contains(v.PublicKey, "test@example") {
					t.Fatalf("created %+v, %v; want a fingerprint and the key without its comment", v, err)
				}
			case tc.status == 422:
				if got.Error.Field != "public_key" || !strings.Contains(got.Error.Message, tc.inMessage) {
					t.Fatalf("refusal %+v, want field public_key saying %q", got.Error, tc.inMessage)
				}
			}
		})
	}
	if got := f.do(roleOwner, "POST", "/api/account/ssh-keys", map[string]string{"name": " ", "public_key": testPublicKey(t)}); got.Status != 422 || got.Error.Field != "name" {
		t.Fatalf("a key without a name: %d %s", got.Status, got.Body)
	}
	// Only the accepted keys were stored, and each create was audited.
	ks, err := f.store.ListSSHKeys(context.Background(), f.users[roleOwner].ID)
	if err != nil || len(ks) != 3 {
		t.Fatalf("stored keys = %d, %v; want 3", len(ks), err)
	}
	created, _ := f.store.ListAudit(context.Background(), store.AuditFilter{Action: "ssh_key.create"})
	if len(created) != 3 {
		t.Fatalf("%d ssh_key.create audit entries, want 3", len(created))
	}
}

func TestSSHKeysBelongToTheirUser(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	got := f.do(roleOwner, "POST", "/api/account/ssh-keys", map[string]string{"name": "laptop", "public_key": testPublicKey(t)})
	if got.Status != 201 {
		t.Fatalf("create: %d %s", got.Status, got.Body)
	}
	var k sshKeyView
	_ = json.Unmarshal(got.Data, &k)

	// Another user neither sees nor deletes it.
	var list []sshKeyView
	if got := f.do(roleStranger, "GET", "/api/account/ssh-keys", nil); got.Status != 200 || json.Unmarshal(got.Data, &list) != nil || len(list) != 0 {
		t.Fatalf("another user's list: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleStranger, "DELETE", "/api/account/ssh-keys/"+k.ID, nil); got.Status != 404 {
		t.Fatalf("deleting another user's key: %d %s", got.Status, got.Body)
	}
	// An administrator sees it.
	if got := f.do(roleAdmin, "GET", "/api/admin/users/"+f.users[roleOwner].ID+"/ssh-keys", nil); got.Status != 200 || json.Unmarshal(got.Data, &list) != nil || len(list) != 1 || list[0].ID != k.ID {
		t.Fatalf("admin's list of the owner's keys: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleAdmin, "GET", "/api/admin/users/"+store.NewID()+"/ssh-keys", nil); got.Status != 404 {
		t.Fatalf("admin's list of an unknown user's keys: %d %s", got.Status, got.Body)
	}
	// Its owner deletes it, once.
	if got := f.do(roleOwner, "DELETE", "/api/account/ssh-keys/"+k.ID, nil); got.Status != 204 {
		t.Fatalf("delete: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleOwner, "DELETE", "/api/account/ssh-keys/"+k.ID, nil); got.Status != 404 {
		t.Fatalf("delete again: %d %s", got.Status, got.Body)
	}
	if n, _ := f.store.CountSSHKeys(ctx, f.users[roleOwner].ID); n != 0 {
		t.Fatalf("%d keys left", n)
	}

	// An account holds at most maxSSHKeys.
	for i := range maxSSHKeys {
		k := &store.SSHKey{UserID: f.users[roleOwner].ID, Name: "k", PublicKey: "x", Fingerprint: "SHA256:" + store.NewID()}
		if err := f.store.CreateSSHKey(ctx, k); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if got := f.do(roleOwner, "POST", "/api/account/ssh-keys", map[string]string{"name": "one too many", "public_key": testPublicKey(t)}); got.Status != 409 || got.Error.Code != "too_many_keys" {
		t.Fatalf("key %d: %d %s", maxSSHKeys+1, got.Status, got.Body)
	}
}

// connectSFTPAgent connects an in-memory agent serving SFTP at sftpAddr
// ("" for none) that records the revocations it is sent, and wires the
// API's revoker to the gateway.
func (f *fixture) connectSFTPAgent(sftpAddr string) *gatewaytest.SFTPRevokes {
	f.t.Helper()
	var revokes *gatewaytest.SFTPRevokes
	f.connectAgentWith(agentOptions{sftpAddr: sftpAddr, handler: func(fake *gatewaytest.Fake) http.Handler {
		revokes = gatewaytest.NewSFTPRevokes(fake)
		return revokes
	}})
	r := sftpauth.NewRevoker(f.store, f.api.Gateway, hclog.NewNullLogger())
	f.t.Cleanup(r.Close)
	f.api.SFTP = r
	return revokes
}

func TestAccessChangesRevokeSFTPSessions(t *testing.T) {
	f := newFixture(t, "", nil)
	revokes := f.connectSFTPAgent(":2022")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, candidate := f.users[roleSubWith].ID, f.candidate.ID

	steps := []struct {
		name   string
		role   role
		method string
		path   string
		body   any
		want   wire.SFTPRevoke
	}{
		{"subuser's permissions changed", roleOwner, "PATCH", "/api/servers/" + f.server.ID + "/subusers/" + candidate,
			map[string]any{"permissions": []string{"file.read"}}, wire.SFTPRevoke{UserID: candidate, ServerID: f.server.ID}},
		{"subuser removed", roleOwner, "DELETE", "/api/servers/" + f.server.ID + "/subusers/" + sub, nil,
			wire.SFTPRevoke{UserID: sub, ServerID: f.server.ID}},
		{"password changed", roleOwner, "PUT", "/api/account/password",
			map[string]string{"current_password": testPassword, "new_password": "another-password"}, wire.SFTPRevoke{UserID: f.users[roleOwner].ID}},
		{"user deleted", roleAdmin, "DELETE", "/api/admin/users/" + f.newcomer.ID, nil, wire.SFTPRevoke{UserID: f.newcomer.ID}},
	}
	for i, st := range steps {
		if got := f.do(st.role, st.method, st.path, st.body); got.Status >= 300 {
			t.Fatalf("%s: %d %s", st.name, got.Status, got.Body)
		}
		got := revokes.Wait(ctx, i+1)
		if len(got) != i+1 || got[i] != st.want {
			t.Fatalf("%s: the agent was sent %+v, want %+v last", st.name, got, st.want)
		}
	}
}

func TestServerViewShowsSFTP(t *testing.T) {
	view := func(f *fixture, r role) *sftpView {
		t.Helper()
		got := f.do(r, "GET", "/api/servers/"+f.server.ID, nil)
		var v serverView
		if got.Status != 200 || json.Unmarshal(got.Data, &v) != nil {
			t.Fatalf("server view: %d %s", got.Status, got.Body)
		}
		return v.SFTP
	}
	t.Run("node serving sftp", func(t *testing.T) {
		f := newFixture(t, rbac.FileSFTP, nil)
		f.connectSFTPAgent("0.0.0.0:2022")
		want := sftpView{Host: "n1.example.com", Port: 2022, Username: f.users[roleOwner].Username + "." + f.server.ShortID}
		if got := view(f, roleOwner); got == nil || *got != want {
			t.Fatalf("owner's sftp = %+v, want %+v", got, want)
		}
		if got := view(f, roleSubWith); got == nil || got.Username != f.users[roleSubWith].Username+"."+f.server.ShortID {
			t.Fatalf("subuser's sftp = %+v, want their own user name", got)
		}
		if got := view(f, roleSubWithout); got != nil {
			t.Fatalf("subuser without file.sftp sees %+v", got)
		}
	})
	t.Run("node without sftp", func(t *testing.T) {
		f := newFixture(t, "", nil)
		f.connectSFTPAgent("")
		if got := view(f, roleOwner); got != nil {
			t.Fatalf("sftp = %+v on a node that serves none", got)
		}
	})
	t.Run("node offline", func(t *testing.T) {
		f := newFixture(t, "", nil)
		if got := view(f, roleOwner); got != nil {
			t.Fatalf("sftp = %+v on an offline node", got)
		}
	})
}
