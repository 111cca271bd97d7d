package api

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"time"

	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/ssh"
)

// SSH public keys an account logs in to SFTP with (see sftpauth).

// maxSSHKeys bounds one account's keys, against hoarding: nobody needs
// more.
const maxSSHKeys = 50

// minRSABits is the smallest RSA key accepted.
const minRSABits = 2048

type sshKeyView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
}

type sshKeyCreate struct {
	Name string `json:"name"`
	// PublicKey is one line of an authorized_keys file, as in a .pub file:
	// "ssh-ed25519 AAAA… comment". Options and more than one key are
	// refused.
	PublicKey string `json:"public_key"`
}

func viewSSHKey(k *store.SSHKey) sshKeyView {
	return sshKeyView{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey, Fingerprint: k.Fingerprint, CreatedAt: k.CreatedAt}
}

func (a *API) listSSHKeys(c *gin.Context) {
	ks, err := a.Store.ListSSHKeys(c.Request.Context(), userOf(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewAll(ks, viewSSHKey))
}

// adminListSSHKeys lists another user's keys, for support.
func (a *API) adminListSSHKeys(c *gin.Context) {
	ctx := c.Request.Context()
	u, err := a.Store.UserByID(ctx, c.Param("uid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	ks, err := a.Store.ListSSHKeys(ctx, u.ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewAll(ks, viewSSHKey))
}

// parsePublicKey accepts one authorized_keys line holding one key, without
// options, of a type SFTP clients use today: ed25519 and ECDSA (plain or on
// a security key) and RSA of at least 2048 bits. DSA is refused: OpenSSH
// itself dropped it.
func parsePublicKey(line string) (ssh.PublicKey, error) {
	pk, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
	if err != nil {
		return nil, invalidField("public_key", "is not an OpenSSH public key (paste the .pub file's line)")
	}
	if len(options) > 0 {
		return nil, invalidField("public_key", "carries authorized_keys options (%s); paste the key alone", strings.Join(options, ","))
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, invalidField("public_key", "holds more than one key; add them one at a time")
	}
	switch pk.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521, ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256:
	case ssh.KeyAlgoRSA:
		ck, ok := pk.(ssh.CryptoPublicKey)
		if !ok {
			return nil, invalidField("public_key", "is an RSA key this server cannot read")
		}
		if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); !ok || rk.N.BitLen() < minRSABits {
			return nil, invalidField("public_key", "RSA keys need at least %d bits; prefer ed25519", minRSABits)
		}
	default:
		return nil, invalidField("public_key", "key type %s is not accepted; use ed25519, ECDSA or RSA", pk.Type())
	}
	return pk, nil
}

func (a *API) createSSHKey(c *gin.Context) {
	var req sshKeyCreate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 100 {
		a.fail(c, invalidField("name", "must be 1-100 characters"))
		return
	}
	pk, err := parsePublicKey(req.PublicKey)
	if err != nil {
		a.fail(c, err)
		return
	}
	ctx, u := c.Request.Context(), userOf(c)
	// Two requests at once may both pass the count; the bound is against
	// hoarding, not exact.
	n, err := a.Store.CountSSHKeys(ctx, u.ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	if n >= maxSSHKeys {
		a.fail(c, &Error{Status: http.StatusConflict, Code: "too_many_keys", Message: fmt.Sprintf("an account holds at most %d SSH keys; delete one first", maxSSHKeys)})
		return
	}
	k := &store.SSHKey{UserID: u.ID, Name: name,
		PublicKey:   strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))),
		Fingerprint: ssh.FingerprintSHA256(pk)}
	if err := a.Store.CreateSSHKey(ctx, k); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "ssh_key.create", "ssh_key", k.ID, "", store.OutcomeSuccess, map[string]any{"fingerprint": k.Fingerprint, "name": k.Name})
	respond(c, http.StatusCreated, viewSSHKey(k))
}

func (a *API) deleteSSHKey(c *gin.Context) {
	u := userOf(c)
	if err := a.Store.DeleteSSHKey(c.Request.Context(), u.ID, c.Param("kid")); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "ssh_key.delete", "ssh_key", c.Param("kid"), "", store.OutcomeSuccess, nil)
	// Which key a session logged in with is not known here: every SFTP
	// session of the user closes, and the others log in again.
	a.revokeSFTPUser(u.ID)
	c.Status(http.StatusNoContent)
}
