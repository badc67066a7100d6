package source

import (
	"sort"
	"sync"
)

// live keeps the latest progress report of each source of the scans this
// process runs, so that a page can show how far a scan queued as a job
// has got. A scan run by another node shows no progress here, only its
// stored state.
type live struct {
	mu    sync.Mutex
	scans map[string]map[string]Progress
}

// track starts keeping scanID's progress and returns the ProgressFunc that
// records each report and passes it on to next (which may be nil).
func (l *live) track(scanID string, next ProgressFunc) ProgressFunc {
	l.mu.Lock()
	if l.scans == nil {
		l.scans = map[string]map[string]Progress{}
	}
	l.scans[scanID] = map[string]Progress{}
	l.mu.Unlock()
	return func(p Progress) {
		l.mu.Lock()
		if m := l.scans[scanID]; m != nil {
			m[p.Source] = p
		}
		l.mu.Unlock()
		if next != nil {
			next(p)
		}
	}
}

// end forgets scanID, whose result is now stored.
func (l *live) end(scanID string) {
	l.mu.Lock()
	delete(l.scans, scanID)
	l.mu.Unlock()
}

// Progress returns the latest report of each source of a scan running in
// this process, by source name; none when the scan is not running here.
func (s *Service) Progress(scanID string) []Progress {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	out := make([]Progress, 0, len(s.live.scans[scanID]))
	for _, p := range s.live.scans[scanID] {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}
