package pool

import (
	"context"
	"testing"
	"time"
)

func TestAdmitUpToTheLimitUntilStopped(t *testing.T) {
	p := New()
	if first, second := p.Admit(2), p.Admit(2); !first || !second {
		t.Fatal("the first two admissions under a limit of 2 were refused")
	}
	if p.Admit(2) {
		t.Fatal("a third admission under a limit of 2 was accepted")
	}
	p.Done()
	if !p.Admit(2) {
		t.Fatal("an admission after a Done was refused")
	}
	p.Done()
	p.Done()
	p.Stop(context.Background())
	if p.Admit(2) || p.Go(func() {}) || !p.Stopped() {
		t.Fatal("a stopped pool admitted work")
	}
	select {
	case <-p.Stopping():
	default:
		t.Fatal("Stopping is open after Stop")
	}
	if p.Context().Err() == nil {
		t.Fatal("the context lives on after Stop")
	}
}

// Stop lets admitted work finish while ctx lives, and its context stays
// alive meanwhile.
func TestStopWaitsForWork(t *testing.T) {
	p := New()
	finish := make(chan struct{})
	sawCancel := make(chan bool, 1)
	p.Go(func() {
		<-p.Stopping()
		<-finish
		sawCancel <- p.Context().Err() != nil
	})
	stopped := make(chan struct{})
	go func() {
		p.Stop(context.Background())
		close(stopped)
	}()
	<-p.Stopping()
	close(finish)
	<-stopped
	if <-sawCancel {
		t.Error("the work's context ended before the work did")
	}
}

// Once Stop's ctx ends, the pool's context ends too, cutting short the
// work still running, and Stop returns after it.
func TestStopCutsShortAfterItsContext(t *testing.T) {
	p := New()
	p.Go(func() { <-p.Context().Done() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() {
		p.Stop(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Stop did not return after its context ended")
	}
	if p.Context().Err() == nil {
		t.Fatal("the pool's context lives on")
	}
}
