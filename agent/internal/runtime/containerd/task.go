package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"

	"catalyst.dev/agent/internal/runtime"
)

// Start starts the server's process: it connects the network (again, if a
// reboot lost it), replaces a task left stopped by the previous run and
// starts a new one. Starting a running server does nothing.
func (r *Runtime) Start(ctx context.Context, id string) error {
	ctr, err := r.container(ctx, id)
	if err != nil {
		return err
	}
	if task, err := ctr.Task(ctx, nil); err == nil {
		st, err := task.Status(ctx)
		switch {
		case err != nil && !errdefs.IsNotFound(err):
			return fmt.Errorf("start %s: %w", id, err)
		case err == nil && running(st.Status):
			return nil
		case err == nil && st.Status == client.Created:
			if err := task.Start(ctx); err != nil {
				return fmt.Errorf("start %s: %w", id, err)
			}
			return nil
		}
		if _, err := task.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("start %s: remove previous task: %w", id, err)
		}
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("start %s: %w", id, err)
	}

	ports, err := containerPorts(ctx, ctr)
	if err != nil {
		return err
	}
	if err := r.opts.network.Attach(ctx, id, ports); err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return r.startTask(ctx, ctr)
}

func (r *Runtime) startTask(ctx context.Context, ctr client.Container) error {
	id := ctr.ID()
	creator, tio := r.creator(id)
	task, err := ctr.NewTask(ctx, creator)
	tio.Close()
	if err != nil {
		return fmt.Errorf("start %s: create task: %w", id, err)
	}
	if err := task.Start(ctx); err != nil {
		_, derr := task.Delete(context.WithoutCancel(ctx), client.WithProcessKill)
		return errors.Join(fmt.Errorf("start %s: %w", id, err), derr)
	}
	return nil
}

// Stop asks the process to stop, then makes it. See runtime.Runtime.
func (r *Runtime) Stop(ctx context.Context, id, stopCommand string, timeout time.Duration) error {
	task, err := r.liveTask(ctx, id)
	if errors.Is(err, runtime.ErrNotRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	switch stopCommand {
	case "":
		timeout = 0
	case "^C": // Pterodactyl eggs' spelling of SIGINT
		if err := task.Kill(ctx, syscall.SIGINT); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("stop %s: %w", id, err)
		}
	default:
		// A process that no longer reads its stdin gets the signals at once.
		if err := r.writeStdin(ctx, id, stopCommand+"\n"); err != nil {
			timeout = 0
		}
	}
	for _, step := range []struct {
		wait time.Duration
		then syscall.Signal
	}{
		{timeout, syscall.SIGTERM},
		{r.opts.stopGrace, syscall.SIGKILL},
	} {
		if done, err := waitFor(ctx, exited, step.wait); done || err != nil {
			return err
		}
		if err := task.Kill(ctx, step.then); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("stop %s: send %v: %w", id, step.then, err)
		}
	}
	_, err = waitFor(ctx, exited, -1)
	return err
}

// Kill sends SIGKILL and waits for the process to exit.
func (r *Runtime) Kill(ctx context.Context, id string) error {
	task, err := r.liveTask(ctx, id)
	if err != nil {
		return err
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return fmt.Errorf("kill %s: %w", id, err)
	}
	if err := task.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("kill %s: %w", id, err)
	}
	_, err = waitFor(ctx, exited, -1)
	return err
}

// waitFor waits up to d (forever when d < 0) for exited. It reports whether
// the process exited; the error is ctx's.
func waitFor(ctx context.Context, exited <-chan client.ExitStatus, d time.Duration) (bool, error) {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-exited:
		return true, nil
	case <-timeout:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// How long WaitExit waits, once the exit status is known, for the events
// that complete it: the /tasks/exit event and, after a SIGKILL, the OOM
// event that may follow it.
const oomSettle = 2 * time.Second

// sigkillExit is the exit code of a process killed by SIGKILL (128 + 9),
// as the kernel's OOM killer does.
const sigkillExit = 137

// WaitExit blocks until the process exits. See runtime.Runtime.
//
// The exit status comes from the task itself; the OOM flag from containerd's
// /tasks/oom events (the shim watches the cgroup's memory events, v1 or v2).
// The shim publishes OOM events from its own watcher, so one can arrive
// after the /tasks/exit event. Only a process killed by SIGKILL (code 137)
// can have been OOM-killed, so for those alone WaitExit keeps listening, up
// to oomSettle, for the OOM event; every other exit returns at once.
func (r *Runtime) WaitExit(ctx context.Context, id string) (runtime.ExitState, error) {
	ctr, err := r.container(ctx, id)
	if err != nil {
		return runtime.ExitState{}, err
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return runtime.ExitState{}, fmt.Errorf("%s: %w", id, runtime.ErrNotRunning)
	}
	if err != nil {
		return runtime.ExitState{}, fmt.Errorf("wait %s: %w", id, err)
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, subErrs := r.client.Subscribe(sctx,
		fmt.Sprintf(`topic=="/tasks/oom",event.container_id==%q`, id),
		fmt.Sprintf(`topic=="/tasks/exit",event.container_id==%q`, id),
	)
	// A task that had exited before this call cannot report OOM any more:
	// do not wait for events that went by long ago.
	st, err := task.Status(ctx)
	alreadyExited := err == nil && st.Status == client.Stopped

	exited, err := task.Wait(ctx)
	if err != nil {
		return runtime.ExitState{}, fmt.Errorf("wait %s: %w", id, err)
	}
	var (
		state    runtime.ExitState
		gotExit  bool // exit status received
		gotEvent bool // /tasks/exit event received
		settle   <-chan time.Time
	)
	done := func() bool {
		if !gotExit || !(gotEvent || alreadyExited) {
			return false
		}
		mayBeOOM := state.Code == sigkillExit && !state.OOMKilled && !alreadyExited
		return !mayBeOOM
	}
	for !done() {
		select {
		case s := <-exited:
			gotExit = true
			exited = nil
			state.Code = int(s.ExitCode())
			state.ExitedAt = s.ExitTime()
			if s.Error() != nil {
				return state, fmt.Errorf("wait %s: %w", id, s.Error())
			}
			t := time.NewTimer(oomSettle)
			defer t.Stop()
			settle = t.C
		case env := <-events:
			ev, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				continue
			}
			switch e := ev.(type) {
			case *apievents.TaskOOM:
				state.OOMKilled = true
			case *apievents.TaskExit:
				if e.ID == id { // the init process, not an exec
					gotEvent = true
				}
			}
		case <-subErrs:
			subErrs, events = nil, nil // no events: settle for the status alone
			alreadyExited = true
		case <-settle:
			return state, nil
		case <-ctx.Done():
			return state, ctx.Err()
		}
	}
	return state, nil
}

// Delete kills the process if it runs and removes the container, its
// snapshot, console FIFOs and network. Deleting what is gone does nothing.
func (r *Runtime) Delete(ctx context.Context, id string) error {
	r.detach(id)
	ctr, err := r.container(ctx, id)
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		// No container, but perhaps its snapshot, left by an interrupted Delete.
		if err := r.client.SnapshotService(r.opts.snapshotter).Remove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("delete %s: snapshot: %w", id, err)
		}
	case err != nil:
		return err
	default:
		if err := removeTask(ctx, ctr); err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
		if err := ctr.Delete(ctx, client.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", id, err)
		}
	}
	if err := r.opts.network.Detach(ctx, id); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if err := os.RemoveAll(r.ioDir(id)); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// removeTask kills the container's task if it runs and deletes it.
func removeTask(ctx context.Context, ctr client.Container) error {
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if st, err := task.Status(ctx); err == nil && st.Status != client.Stopped {
		exited, err := task.Wait(ctx)
		if err != nil {
			return err
		}
		if err := task.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		if _, err := waitFor(ctx, exited, -1); err != nil {
			return err
		}
	}
	if _, err := task.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}
