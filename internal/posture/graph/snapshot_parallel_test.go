package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// serialOnly hides a reader's Seek so that ReadSnapshot decodes it one
// account at a time, as it did before accounts were decoded in parallel.
type serialOnly struct{ io.Reader }

// bigSnapshot writes a snapshot of two sources with n accounts each; bad,
// when not empty, replaces the account of the second source at index at.
func bigSnapshot(n, at int, bad string) string {
	var b strings.Builder
	b.WriteString("{\"format\": \"vigil.snapshot/v1\",\n \"sources\": [")
	for s, name := range []string{"okta", "aws"} {
		if s > 0 {
			b.WriteString(" ,")
		}
		fmt.Fprintf(&b, "{\"name\":%q,\"product\":\"Okta\",\"tenant\":\"t\",\"accounts\":[\n", name)
		for i := range n {
			if i > 0 {
				b.WriteString(",\r\n\t")
			}
			if s == 1 && i == at && bad != "" {
				b.WriteString(bad)
				continue
			}
			fmt.Fprintf(&b, `{"idInService":"u%d","login":"a\"{[\\%d","status":"active","lastLogin":"2026-01-01T00:00:00Z","credentials":[{"id":"k","kind":"access_key","active":true,"created":"2025-01-01T00:00:00Z"}]}`, i, i)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}\n")
	return b.String()
}

// TestReadSnapshotParallelSame checks that the parallel reader returns
// what the serial one does, batches and read boundaries notwithstanding.
func TestReadSnapshotParallelSame(t *testing.T) {
	in := bigSnapshot(5000, 0, "")
	want, err := ReadSnapshot(serialOnly{strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 3} {
		got, ok := readParallel(strings.NewReader(in), workers)
		if !ok {
			t.Fatalf("%d workers: the parallel reader gave up on a valid snapshot", workers)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d workers: the parallel reader's snapshot differs from the serial one's", workers)
		}
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, ok := readParallel(bytes.NewReader(buf.Bytes()), 2)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("written snapshot read in parallel: ok %v, same %v", ok, reflect.DeepEqual(got, want))
	}
}

// sameError reads in twice, in parallel and serially, and fails unless
// both give the same error with the same path and offset.
func sameError(t *testing.T, in string) error {
	t.Helper()
	_, perr := readSnapshotParallel(context.Background(), strings.NewReader(in), 2)
	_, serr := ReadSnapshot(serialOnly{strings.NewReader(in)})
	if (perr == nil) != (serr == nil) {
		t.Fatalf("parallel error %v, serial error %v", perr, serr)
	}
	if serr == nil {
		return nil
	}
	var pe, se *SnapshotError
	if !errors.As(perr, &pe) || !errors.As(serr, &se) {
		t.Fatalf("parallel error %v (%T), serial error %v (%T), want *SnapshotError", perr, perr, serr, serr)
	}
	if perr.Error() != serr.Error() || pe.Path != se.Path || pe.Offset != se.Offset || errors.Is(perr, ErrInvalid) != errors.Is(serr, ErrInvalid) {
		t.Errorf("parallel error %q (path %q, byte %d), serial error %q (path %q, byte %d)", perr, pe.Path, pe.Offset, serr, se.Path, se.Offset)
	}
	return serr
}

// TestReadSnapshotParallelErrors checks that a bad account deep in a big
// file is reported as the serial reader reports it.
func TestReadSnapshotParallelErrors(t *testing.T) {
	const at = 7000
	tests := []struct{ name, bad, path string }{
		{"bad time", `{"idInService":"x","status":"active","passwordChanged":"soon"}`, "sources[1].accounts[7000].passwordChanged"},
		{"wrong type", `{"idInService":"x","status":"active","root":"yes"}`, "sources[1].accounts[7000].root"},
		{"unknown field", `{"idInService":"x","status":"active","last_login":null}`, "sources[1].accounts[7000]"},
		{"missing status", `{"idInService":"x"}`, "sources[1].accounts[7000].status"},
		{"duplicate id", `{"idInService":"u3","status":"active"}`, "sources[1].accounts[7000].idInService"},
		{"not an object", `"u"`, "sources[1].accounts[7000]"},
		{"number", `7`, "sources[1].accounts[7000]"},
		{"syntax", `{"idInService":"x","status":"active",}`, "sources[1].accounts[7000]"},
		{"unbalanced", `{"idInService":"x","status":"active"}}`, "sources[1].accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sameError(t, bigSnapshot(8000, at, tt.bad))
			var se *SnapshotError
			if !errors.As(err, &se) || se.Path != tt.path {
				t.Errorf("error %v, want one at %s", err, tt.path)
			}
		})
	}
	for _, in := range []string{
		bigSnapshot(8000, 0, "")[:1<<20],                      // cut off
		bigSnapshot(3, 0, "") + "{}",                          // trailing data
		strings.Replace(bigSnapshot(3, 0, ""), "t", "", 1),    // no tenant
		strings.Replace(bigSnapshot(3, 0, ""), "\"[", "[", 1), // broken string
	} {
		sameError(t, in)
	}
}

// TestReadSnapshotParallelErrorCases runs the serial reader's error cases
// through the parallel one.
func TestReadSnapshotParallelErrorCases(t *testing.T) {
	for _, in := range snapshotErrorInputs() {
		sameError(t, in)
	}
}

func snapshotErrorInputs() []string {
	const head = `{"format":"vigil.snapshot/v1","sources":[{"name":"okta","product":"Okta","tenant":"t","accounts":[`
	const tail = `]}]}`
	acc := func(s string) string { return head + `{"idInService":"a","status":"active"},` + s + tail }
	return []string{
		`hello`, head + `{"idInService":"a","status":"active"}`, `{"sources":[]}`,
		`{"format":"vigil.snapshot/v1","people":[]}`, `{"format":"vigil.snapshot/v1","sources":[]} {}`,
		`{"format":"vigil.snapshot/v1","sources":[{"name":"x","product":"Okta","tenant":"t","accounts":[]},{"name":"x","product":"AWS","tenant":"1","accounts":[]}]}`,
		`{"format":"vigil.snapshot/v1","primarySource":"y","sources":[]}`,
		acc(`{"status":"active"}`), acc(`{"idInService":"b","status":"enabled"}`),
		acc(`{"idInService":"a","status":"active"}`),
		acc(`{"idInService":"b","status":"active","lastLogin":"2026-13-01"}`),
		acc(`{"idInService":"b","status":"active","credentials":[{"id":"k","kind":"access_key","active":true,"created":"yesterday"}]}`),
		acc(`{"idInService":"b","status":"active","root":"yes"}`),
		acc(`{"idInService":"b","status":"active","last_login":null}`),
		acc(`{"idInService":"b","status":"active","credentials":[{"id":"k","kind":"password"}]}`),
		acc(`[1]`), acc(`null`), acc(`{"idInService":"b","status":"active"}]`), head + tail[1:] + `]`,
		`{"format":"vigil.snapshot/v1","sources":[{"accounts":[{"idInService":"b","status":"active"}],"name":"x","product":"Okta","tenant":"t"}],"x":[{"y":[{}]}]}`,
		`{"format":"vigil.snapshot/v1","x":[{"y":[{"idInService":"b","status":"active"}]}],"sources":[]}`,
		`[[[[{"idInService":"b","status":"active"}]]]]`,
	}
}

// FuzzReadSnapshotParallel checks that the parallel reader answers as the
// serial one does, for any input.
func FuzzReadSnapshotParallel(f *testing.F) {
	for _, in := range snapshotErrorInputs() {
		f.Add(in)
	}
	f.Add(bigSnapshot(3, 1, `{"idInService":"x","status":"active","created":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, in string) {
		got, perr := readSnapshotParallel(context.Background(), strings.NewReader(in), 2)
		if sameError(t, in) == nil {
			want, _ := ReadSnapshot(serialOnly{strings.NewReader(in)})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parallel snapshot differs from the serial one (error %v)", perr)
			}
		}
	})
}

// BenchmarkReadSnapshot compares the parallel reader with the serial one
// on 100,000 accounts.
func BenchmarkReadSnapshot(b *testing.B) {
	in := []byte(bigSnapshot(50000, 0, ""))
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := ReadSnapshot(serialOnly{bytes.NewReader(in)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		for b.Loop() {
			if _, err := ReadSnapshot(bytes.NewReader(in)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// badByte reads in as a file with an unreadable byte at bad would: every
// read that reaches it fails with errBadByte, before and after a seek.
type badByte struct {
	in  string
	bad int64
	pos int64
}

var errBadByte = errors.New("input/output error")

func (b *badByte) Read(p []byte) (int, error) {
	if b.pos >= int64(len(b.in)) {
		return 0, io.EOF
	}
	if b.pos >= b.bad {
		return 0, errBadByte
	}
	n := copy(p, b.in[b.pos:min(int64(len(b.in)), b.bad)])
	b.pos += int64(n)
	return n, nil
}

func (b *badByte) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart {
		off += b.pos
	}
	b.pos = off
	return off, nil
}

// cancelling reads in and ends its context once more than after bytes
// were read, as a scan cancelled or timed out while it reads does; the
// next read then fails with the context's error.
type cancelling struct {
	*strings.Reader
	after  int
	read   int
	cancel context.CancelFunc
}

func (c *cancelling) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	c.read += n
	if c.read > c.after {
		c.cancel()
	}
	return n, err
}

// sameReadError checks that a read error reaches the caller of the
// parallel reader with the message, path and byte offset the serial
// reader gives for the same bytes followed by the same error.
func sameReadError(t *testing.T, perr, serr error, want error) {
	t.Helper()
	var pe, se *SnapshotError
	if !errors.As(perr, &pe) || !errors.As(serr, &se) || !errors.Is(perr, want) || !errors.Is(serr, want) {
		t.Fatalf("parallel error %v, serial error %v, want *SnapshotError wrapping %v", perr, serr, want)
	}
	if perr.Error() != serr.Error() || pe.Path != se.Path || pe.Offset != se.Offset {
		t.Errorf("parallel error %q (path %q, byte %d), serial error %q (path %q, byte %d)", perr, pe.Path, pe.Offset, serr, se.Path, se.Offset)
	}
}

// TestReadSnapshotParallelReadErrors checks that a read that fails, or
// whose context ends, part way through a big file is reported where the
// serial reader reports it, and not where reading the file again stops.
func TestReadSnapshotParallelReadErrors(t *testing.T) {
	in := bigSnapshot(8000, 0, "")
	positions := []int{0, 1, 90, 1 << 20, len(in) / 2, len(in) - 3}
	for _, at := range positions {
		_, perr := readSnapshotParallel(context.Background(), &badByte{in: in, bad: int64(at)}, 2)
		_, serr := ReadSnapshot(serialOnly{&badByte{in: in, bad: int64(at)}})
		sameReadError(t, perr, serr, errBadByte)
	}
	paths := map[string]bool{}
	for _, after := range append(positions, len(in)-1) {
		ctx, cancel := context.WithCancel(context.Background())
		_, perr := readSnapshotParallel(ctx, &cancelling{Reader: strings.NewReader(in), after: after, cancel: cancel}, 2)
		ctx, cancel = context.WithCancel(context.Background())
		_, serr := ReadSnapshotContext(ctx, serialOnly{&cancelling{Reader: strings.NewReader(in), after: after, cancel: cancel}})
		sameReadError(t, perr, serr, context.Canceled)
		var se *SnapshotError
		errors.As(serr, &se)
		paths[se.Path] = true
	}
	if len(paths) < 3 {
		t.Errorf("the cancelled reads stopped at %v only; want them stopped in different places", paths)
	}
}
