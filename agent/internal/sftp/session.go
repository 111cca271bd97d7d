package sftp

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// maxChannels bounds the session channels one connection may hold open,
// as sshd's MaxSessions does (and with its default).
const maxChannels = 10

// maxReadLength is the most file data one read answer carries: what
// OpenSSH's sftp-server sends, so an answer to a 256 KiB read still fits
// the client's 256 KiB message limit with its header.
const maxReadLength = 256*1024 - 1024

// shellRefusal is what exec and shell requests get on stderr.
const shellRefusal = "this server offers SFTP only\r\n"

// session is one logged-in connection.
type session struct {
	sc      *ssh.ServerConn
	conn    *activityConn
	grant   wire.SFTPGrant
	vol     *files.Volume
	log     hclog.Logger
	started time.Time

	// Bytes of file data read and written, for the close log.
	read, written atomic.Int64
}

func newSession(s *Server, sc *ssh.ServerConn, conn *activityConn, grant wire.SFTPGrant, vol *files.Volume) *session {
	return &session{
		sc:      sc,
		conn:    conn,
		grant:   grant,
		vol:     vol,
		started: time.Now(),
		log: s.log.With("user", sc.User(), "user_id", grant.UserID, "server", grant.ServerID,
			"remote", sc.RemoteAddr().String()),
	}
}

// close ends the session; reason goes to the close log.
func (s *session) close(reason string) { s.conn.closeWith(reason) }

// serve runs the connection's channels until it closes.
func (s *session) serve(chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request) {
	s.log.Info("sftp session opened", "permissions", s.grant.Permissions)
	handlers := newHandlers(s)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ssh.DiscardRequests(reqs) // keepalives and port forwarding requests
	}()
	var open atomic.Int32
	// chans is closed when the connection ends, whoever ends it.
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "this server offers SFTP only")
			continue
		}
		if open.Load() >= maxChannels {
			nch.Reject(ssh.ResourceShortage, fmt.Sprintf("at most %d sessions per connection", maxChannels))
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		open.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer open.Add(-1)
			s.serveChannel(ch, chReqs, handlers)
		}()
	}
	wg.Wait()

	reason := s.conn.closeReason()
	if reason == "" {
		reason = "client disconnected"
		// A client that says goodbye ends with an SSH disconnect message,
		// whose error type x/crypto/ssh does not export.
		if err := s.sc.Wait(); err != nil && !errors.Is(err, io.EOF) && !strings.HasPrefix(err.Error(), "ssh: disconnect") {
			reason = "connection lost: " + err.Error()
		}
	}
	s.log.Info("sftp session closed", "duration", time.Since(s.started).Round(time.Millisecond),
		"bytes_read", s.read.Load(), "bytes_written", s.written.Load(), "reason", reason)
}

// serveChannel answers one session channel's requests: the "sftp"
// subsystem runs, exec and shell get a clear refusal, the rest a plain
// no.
func (s *session) serveChannel(ch ssh.Channel, reqs <-chan *ssh.Request, handlers pkgsftp.Handlers) {
	defer ch.Close()
	var sftpDone chan struct{} // made when the subsystem starts
	refused := false           // exec or shell was answered
	defer func() {
		if sftpDone != nil {
			<-sftpDone
		}
	}()
	// reqs is closed once the channel is, by either side.
	for req := range reqs {
		switch {
		case req.Type == "subsystem" && sftpDone == nil && !refused && subsystemName(req.Payload) == "sftp":
			req.Reply(true, nil)
			sftpDone = make(chan struct{})
			go func() {
				defer close(sftpDone)
				s.runSFTP(ch, handlers)
			}()
		case (req.Type == "exec" || req.Type == "shell") && sftpDone == nil && !refused:
			req.Reply(true, nil)
			refused = true
			s.log.Info("sftp session refused a command", "request", req.Type)
			io.WriteString(ch.Stderr(), shellRefusal)
			exitStatus(ch, 1)
			// Closed, but reqs is still drained until x/crypto/ssh closes
			// it: unread requests would stall the whole connection.
			ch.Close()
		case req.Type == "pty-req":
			// Granted and ignored, so that an interactive ssh shows the
			// refusal above instead of a PTY error.
			req.Reply(true, nil)
		default:
			req.Reply(false, nil) // a no-op unless the client wants a reply
		}
	}
}

// runSFTP serves the SFTP protocol on ch until the client ends it, then
// closes the channel with exit status 0.
func (s *session) runSFTP(ch ssh.Channel, handlers pkgsftp.Handlers) {
	// The allocator reuses packet buffers instead of making one per
	// request: large transfers allocate next to nothing.
	rs := pkgsftp.NewRequestServer(ch, handlers,
		pkgsftp.WithRSAllocator(),
		pkgsftp.WithRSMaxTxPacket(maxReadLength))
	err := rs.Serve()
	if err != nil && !errors.Is(err, io.EOF) {
		s.log.Debug("sftp subsystem ended", "error", err)
	}
	exitStatus(ch, 0)
	rs.Close()
}

func exitStatus(ch ssh.Channel, status uint32) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
}

// subsystemName is the name in a "subsystem" request's payload.
func subsystemName(payload []byte) string {
	var p struct{ Name string }
	if ssh.Unmarshal(payload, &p) != nil {
		return ""
	}
	return p.Name
}
