package source

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestSnapshotFilesOnlyFromTheirDirectory checks that a snapshot source
// reads only files inside the configured directory (a source could be
// pointed at the master key), that a link inside it leading out is refused
// when the file is opened too, and that reading a file that is not a
// snapshot reports no byte of it (the first character of the master key
// came back in the error).
func TestSnapshotFilesOnlyFromTheirDirectory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		root := t.TempDir()
		dir, outside := filepath.Join(root, "snapshots"), filepath.Join(root, "data")
		for _, d := range []string{dir, outside} {
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		const secret = "Zk3yM4teri4l-0nly-in-th1s-file"
		key := filepath.Join(outside, "master.key")
		inside := filepath.Join(dir, "not-a-snapshot.json")
		for _, f := range []string{key, inside} {
			if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		b := setup(t, st, func(c *Config) { c.FileDir = dir })
		snap := func(name, file string) Input {
			return Input{Name: name, Kind: KindSnapshot, Settings: Settings{File: file}}
		}
		aws := Input{Name: "aws", Kind: KindAWS, Settings: Settings{File: key}}
		for _, in := range []Input{snap("key", key), snap("dots", filepath.Join(dir, "..", "data", "master.key")), aws} {
			_, err := b.svc.Add(ctx, in)
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != "file" || !strings.Contains(inv.Message, "outside the snapshot directory") {
				t.Errorf("Add %s at %s: %v; want refused as outside the snapshot directory", in.Name, in.Settings.File, err)
			}
		}
		// A file inside when saved, replaced later by a link leading out.
		swapped := filepath.Join(dir, "org.json")
		if err := os.WriteFile(swapped, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Add(ctx, snap("linked", swapped)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Add(ctx, snap("junk", inside)); err != nil {
			t.Fatal(err)
		}
		res, err := b.svc.Scan(ctx, ScanOptions{Sources: []string{"junk"}})
		if err == nil && res.Status == ScanOK {
			t.Fatal("a file that is not a snapshot was scanned without error")
		}
		for _, sr := range res.Sources {
			if strings.Contains(sr.Error, "Z") || strings.Contains(sr.Error, secret[:4]) {
				t.Errorf("the error quotes the file: %q", sr.Error)
			}
		}
		if err := os.Remove(swapped); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(key, swapped); err != nil {
			t.Fatal(err)
		}
		res, _ = b.svc.Scan(ctx, ScanOptions{Sources: []string{"linked"}})
		if res == nil || len(res.Sources) != 1 || !strings.Contains(res.Sources[0].Error, "outside the snapshot directory") {
			t.Errorf("scan through a link leading out: %+v; want refused as outside the snapshot directory", res)
		}
	})
}
