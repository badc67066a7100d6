package source

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// errInterrupted is the error an abandoned scan is failed with.
const errInterrupted = "The server running this scan stopped before it ended; the scan was queued again."

// errInterruptedCLI is the error of an abandoned scan nobody can resume.
const errInterruptedCLI = "The process running this scan stopped before it ended; run the scan again."

// lease records that this process runs the scan and renews the lease
// every third of Config.ScanLease until the returned stop is called, which
// also drops it. A scan whose lease runs out is one Recover fails and
// queues again.
func (s *Service) lease(ctx context.Context, scanID string, jobID int64) (stop func(), err error) {
	d := s.cfg.ScanLease
	if err := s.st.LeasePostureScan(ctx, scanID, jobID, s.now().Add(d)); err != nil {
		return nil, fmt.Errorf("lease the scan: %w", err)
	}
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(d / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				ok, err := s.st.RenewPostureScan(ctx, scanID, s.now().Add(d))
				if err != nil {
					s.cfg.Logger.Warn("cannot renew the scan's lease", "scan", scanID, "err", err)
				} else if !ok {
					s.cfg.Logger.Warn("the scan no longer holds its lease: it ended, or its lease ran out before this renewal and recovery marked it failed", "scan", scanID)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-ended
		if err := s.st.ReleasePostureScan(context.WithoutCancel(ctx), scanID); err != nil {
			s.cfg.Logger.Warn("cannot drop the scan's lease", "scan", scanID, "err", err)
		}
	}, nil
}

// Recover fails, visibly, every scan whose worker died (its lease ran out),
// and queues each one a job ran again with the same sources and trigger.
// The dead job is discarded, so that it no longer counts as a duplicate
// of the next "scan all"; on PostgreSQL a job already handed back after
// its node died (waiting, or running a new attempt) is left to run the
// scan anew instead, so that the scan is not run twice at once. With
// exclusive set the caller is the only
// server (SQLite's data directory lock), so every scan a job was running
// was abandoned by the previous process, whatever its lease says; a scan
// the command line runs still counts only once its lease ran out. It
// returns how many scans it recovered.
func (s *Service) Recover(ctx context.Context, exclusive bool) (int, error) {
	now := s.now()
	jobsNow := now
	if exclusive {
		jobsNow = now.Add(100 * 365 * 24 * time.Hour)
	}
	n := 0
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		dead, err := tx.AbandonedPostureScans(ctx, now, jobsNow, now.Add(-s.cfg.ScanLease))
		if err != nil {
			return err
		}
		for _, d := range dead {
			msg := errInterruptedCLI
			if d.JobID != 0 && s.queue != nil {
				msg = errInterrupted
			}
			blob, _ := json.Marshal(&ScanResult{ID: d.ID, Trigger: d.Trigger, Status: ScanFailed, Error: msg,
				FinishedAt: now, Sources: []SourceResult{}})
			if err := tx.FinishPostureScan(ctx, d.ID, ScanFailed, msg, string(blob), now); err != nil {
				return err
			}
			if err := tx.ReleasePostureScan(ctx, d.ID); err != nil {
				return err
			}
			n++
			if d.JobID == 0 {
				continue
			}
			again, err := tx.DiscardScanJob(ctx, d.JobID, d.StartedAt)
			if err != nil {
				return err
			}
			if !again || s.queue == nil {
				// Its job, handed back after its node died, runs it anew.
				continue
			}
			var names []string
			if err := json.Unmarshal([]byte(d.RequestedJSON), &names); err != nil {
				return fmt.Errorf("scan %s: read the sources it asked for: %w", d.ID, err)
			}
			if _, err := s.queue.InsertTx(ctx, tx, ScanArgs{Sources: names, Trigger: d.Trigger}, nil); err != nil {
				return err
			}
		}
		m, err := s.requeueOrphanedJobs(ctx, tx, exclusive, now)
		n += m
		if err != nil {
			return err
		}
		_, err = tx.ReleaseEndedPostureScans(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recover interrupted scans: %w", err)
	}
	if n > 0 {
		s.cfg.Logger.Info("failed the scans whose worker died and queued them again", "scans", n)
	}
	return n, nil
}

// requeueOrphanedJobs discards the scan jobs River holds as running
// although no scan of theirs runs, and queues each again: a process killed
// after taking the job but before recording its scan, or after the scan
// ended but before River recorded the job completed, leaves such a job,
// and it would answer every later request for a scan of the same sources
// as its duplicate, so that none ran, until River's own rescue hours
// later. Running the job again at worst repeats a scan that had ended,
// which changes nothing. With exclusive set every such job is dead; a
// shared server takes only those started more than twice the scan lease
// ago, and none while a scan ended within that time, so that a live job
// whose completion River has yet to record is left alone.
func (s *Service) requeueOrphanedJobs(ctx context.Context, tx *store.Tx, exclusive bool, now time.Time) (int, error) {
	var quietSince time.Time
	if !exclusive {
		quietSince = now.Add(-2 * s.cfg.ScanLease)
	}
	dead, err := tx.OrphanedScanJobs(ctx, ScanArgs{}.Kind(), quietSince)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range dead {
		var args ScanArgs
		if err := json.Unmarshal(j.ArgsJSON, &args); err != nil {
			return n, fmt.Errorf("scan job %d: read its arguments: %w", j.ID, err)
		}
		ok, err := tx.DiscardDeadJob(ctx, j.ID)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		n++
		if s.queue == nil {
			continue
		}
		if _, err := s.queue.InsertTx(ctx, tx, args, nil); err != nil {
			return n, err
		}
	}
	return n, nil
}
