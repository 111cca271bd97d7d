package host

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
)

// spawner starts plugin processes from one goroutine locked to one OS
// thread for the host's lifetime. On Linux each plugin is started with a
// parent-death signal, which the kernel sends when the *thread* that forked
// the child exits; the Go runtime may retire ordinary threads at any time,
// so forking from a thread that never exits is what makes the signal mean
// "the host is gone" rather than "the runtime tidied up".
type spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

type spawnReq struct {
	cmd   *exec.Cmd
	reply chan error
}

var errSpawnerStopped = errors.New("host is shut down")

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *spawner) run() {
	// Never unlocked: when run returns the thread exits with it, which is
	// only after every plugin has been killed (see Host.Close).
	runtime.LockOSThread()
	for {
		select {
		case <-s.done:
			return
		case r := <-s.reqs:
			r.reply <- r.cmd.Start()
		}
	}
}

func (s *spawner) start(ctx context.Context, cmd *exec.Cmd) error {
	reply := make(chan error, 1)
	select {
	case s.reqs <- spawnReq{cmd: cmd, reply: reply}:
	case <-s.done:
		return errSpawnerStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-reply
}

func (s *spawner) stop() { close(s.done) }
