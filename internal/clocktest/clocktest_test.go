package clocktest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t.Parallel()
	c := New(time.Time{})
	if !c.Now().Equal(Start) {
		t.Fatalf("Now = %v, want %v", c.Now(), Start)
	}
	if err := c.Sleep(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	if want := Start.Add(time.Minute + 3*time.Second); !c.Now().Equal(want) {
		t.Errorf("Now = %v, want %v", c.Now(), want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep after cancel = %v", err)
	}
	// A run cancelled with a cause gets the cause, as from a real sleep.
	stopped := errors.New("execution cancelled")
	cctx, ccancel := context.WithCancelCause(context.Background())
	ccancel(stopped)
	if err := c.Sleep(cctx, time.Second); !errors.Is(err, stopped) {
		t.Errorf("Sleep after a cancel with a cause = %v, want the cause", err)
	}
	if got := c.Waits(); !slices.Equal(got, []time.Duration{3 * time.Second, time.Second, time.Second}) {
		t.Errorf("Waits = %v", got)
	}

	s := Still(Start)
	s.Sleep(context.Background(), time.Hour)
	if !s.Now().Equal(Start) || len(s.Waits()) != 1 {
		t.Errorf("still clock moved to %v or lost the wait: %v", s.Now(), s.Waits())
	}
}
