package source

import (
	"context"
	"fmt"
	"os"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// snapshotReader reads a Vigil snapshot file (docs/snapshot.md). A file
// with one source stands for the configured source and takes its name; a
// file with several keeps them apart as "<configured>/<inner>", each a
// scope of its own.
type snapshotReader struct {
	name string
	file string
	m    *meter
}

func (s *Service) newSnapshotReader(name string, set Settings, m *meter) (Reader, error) {
	file, err := s.localFile(set.File)
	if err != nil {
		return nil, err
	}
	return &snapshotReader{name: name, file: file, m: m}, nil
}

func (r *snapshotReader) Read(ctx context.Context, _ ProgressFunc) (*Result, error) {
	r.m.stepTo("snapshot file")
	f, err := os.Open(r.file)
	if err != nil {
		return nil, fmt.Errorf("open the snapshot file: %w", err)
	}
	defer f.Close()
	// The file is given as it is, seekable, so that its accounts are
	// decoded on every processor (graph.ReadSnapshotContext buffers it).
	snap, err := graph.ReadSnapshotContext(ctx, f)
	if err != nil {
		return nil, err
	}
	r.m.request()
	res := &Result{Parts: snap.Sources}
	rename := func(inner string) string {
		if len(snap.Sources) == 1 {
			return r.name
		}
		return r.name + "/" + inner
	}
	for i := range res.Parts {
		res.Parts[i].Name = rename(res.Parts[i].Name)
	}
	if snap.PrimarySource != "" {
		res.Primary = rename(snap.PrimarySource)
	}
	r.m.setAccounts(res.Accounts())
	return res, nil
}
