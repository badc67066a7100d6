package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/store"
)

// ScanArgs is the job that runs a scan in the background, as "Scan now" in
// the console does. Empty Sources means every source.
type ScanArgs struct {
	Sources []string `json:"sources,omitempty"`
	Trigger string   `json:"trigger,omitempty"`
}

// Kind names the job kind in River.
func (ScanArgs) Kind() string { return "posture_scan" }

// InsertOpts keeps at most one scan of the same sources waiting or running.
// A scan that fails records why and is not retried; one whose worker died
// is failed and queued again by Recover, which also takes the dead job out
// of the running state, so that it does not stand as a duplicate of every
// later scan. River's own rescue of the dead job (after the job's timeout)
// retries it, in case the worker died before the scan was recorded.
func (ScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateScheduled, rivertype.JobStateRetryable}}}
}

// ScheduleArgs is the periodic job that scans the sources whose schedule
// says they are due.
type ScheduleArgs struct{}

// Kind names the job kind in River.
func (ScheduleArgs) Kind() string { return "posture_schedule" }

// ScheduleInterval is how often the periodic job looks for due sources.
const ScheduleInterval = time.Minute

type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	svc *Service
}

// Work runs the scan the job asks for; a scan that recorded its own failure
// is not retried, since running it again would only record another.
func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	trigger := job.Args.Trigger
	if trigger == "" {
		trigger = TriggerAPI
	}
	res, err := w.svc.Scan(ctx, ScanOptions{Sources: job.Args.Sources, Trigger: trigger, JobID: job.ID})
	if err != nil && res != nil {
		// The scan recorded its failure; running it again now would only
		// record another.
		return river.JobCancel(err)
	}
	return err
}

// Timeout is jobTimeout: every source's read plus the graph and the issues.
func (w *scanWorker) Timeout(*river.Job[ScanArgs]) time.Duration { return w.svc.jobTimeout() }

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	svc *Service
}

// Work recovers scans a stopped node left running, then starts the scans that
// are due.
func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	if _, err := w.svc.Recover(ctx, false); err != nil {
		return err
	}
	_, err := w.svc.ScanDue(ctx)
	return err
}

// Timeout is jobTimeout, as a due scan may run within the job.
func (w *scheduleWorker) Timeout(*river.Job[ScheduleArgs]) time.Duration { return w.svc.jobTimeout() }

// jobTimeout bounds a scan job: every source's read, plus the graph and
// the transaction.
func (s *Service) jobTimeout() time.Duration { return 6*s.cfg.ReadTimeout + 10*time.Minute }

// ScanDue scans, together, the sources whose schedule makes them due, and
// returns the result (nil when none was due). Each is claimed first, so
// that two nodes checking at once do not both scan it.
func (s *Service) ScanDue(ctx context.Context) (*ScanResult, error) {
	var names []string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockPosture(ctx); err != nil {
			return err
		}
		due, err := tx.ClaimDuePostureSources(ctx, s.now())
		for _, r := range due {
			names = append(names, r.Name)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find the sources due for a scan: %w", err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	return s.Scan(ctx, ScanOptions{Sources: names, Trigger: TriggerSchedule})
}

// Register adds the scan jobs' workers to workers.
func Register(workers *river.Workers, svc *Service) {
	river.AddWorker(workers, &scanWorker{svc: svc})
	river.AddWorker(workers, &scheduleWorker{svc: svc})
}

// PeriodicJobs returns the periodic job that starts scheduled scans: it
// checks every ScheduleInterval, and once at start.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(ScheduleInterval),
		func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}

// QueuedScan is a scan job QueueScan inserted, or found waiting.
type QueuedScan struct {
	// JobID is the River job that runs the scan.
	JobID int64
	// Duplicate is set when the same scan was already waiting or running,
	// and no second one was queued.
	Duplicate bool
	// Sources are the sources asked for; empty means all of them.
	Sources []string
}

// ErrNoQueue is returned by QueueScan when the service has no queue.
var ErrNoQueue = errors.New("scans cannot be queued: this server has no job queue")

// QueueScan queues the scan job for the named sources (none: every
// source), as the console's Scan now and the API do, so that the scan
// survives a restart and runs on whichever node has a free worker. A name
// that matches no source gives an error wrapping ErrNotFound, and no
// source at all an *InvalidError; either queues nothing.
func (s *Service) QueueScan(ctx context.Context, names []string, trigger string) (QueuedScan, error) {
	if s.queue == nil {
		return QueuedScan{}, ErrNoQueue
	}
	rows, err := s.st.PostureSources(ctx)
	if err != nil {
		return QueuedScan{}, fmt.Errorf("list sources: %w", err)
	}
	if len(rows) == 0 {
		return QueuedScan{}, &InvalidError{Field: "sources", Message: "There is no source to scan; add one first."}
	}
	targets, err := pick(rows, names)
	if err != nil {
		return QueuedScan{}, err
	}
	q := QueuedScan{}
	if len(names) > 0 {
		for _, t := range targets {
			q.Sources = append(q.Sources, t.row.Name)
		}
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := s.queue.InsertTx(ctx, tx, ScanArgs{Sources: q.Sources, Trigger: trigger}, nil)
		if err != nil {
			return fmt.Errorf("queue the scan: %w", err)
		}
		q.JobID, q.Duplicate = res.Job.ID, res.UniqueSkippedAsDuplicate
		return nil
	})
	return q, err
}
