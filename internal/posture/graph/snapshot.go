package graph

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// SnapshotFormat is the format identifier a snapshot file starts with.
// Readers reject other values so that a future, incompatible format fails
// loudly instead of being half understood.
const SnapshotFormat = "vigil.snapshot/v1"

// Snapshot is Vigil's own normalized identity file: every source of an
// organization with its accounts, in the shape of this package's types.
// docs/snapshot.md documents it field by field.
type Snapshot struct {
	Format      string    `json:"format"`
	GeneratedAt time.Time `json:"generatedAt,omitzero"`
	// PrimarySource names the source whose accounts define people; empty
	// means the first Okta source.
	PrimarySource string   `json:"primarySource,omitempty"`
	Sources       []Source `json:"sources"`
}

// Graph builds the snapshot's graph. An empty opts.Primary takes the
// snapshot's PrimarySource.
func (s *Snapshot) Graph(opts Options) (*Graph, error) {
	if opts.Primary == "" {
		opts.Primary = s.PrimarySource
	}
	return Build(s.Sources, opts)
}

// SnapshotError reports what is wrong in a snapshot file and where: Path is
// a JSON path such as "sources[2].accounts[15].lastLogin" and Offset the
// byte offset in the file at or just after the problem.
type SnapshotError struct {
	Path   string
	Offset int64
	Err    error
}

func (e *SnapshotError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("snapshot (byte %d): %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("snapshot %s (byte %d): %v", e.Path, e.Offset, e.Err)
}

// Unwrap returns the underlying error; validation problems wrap [ErrInvalid].
func (e *SnapshotError) Unwrap() error { return e.Err }

// ReadSnapshot decodes a snapshot, one account at a time so that memory
// holds the accounts and not also the whole file. It rejects unknown fields
// and invalid values with a [*SnapshotError] naming the field and its index.
//
// When r is also an [io.Seeker] and more than one processor is available,
// the accounts are decoded on all of them; should the file have a problem,
// it is read again from where r stood, one account at a time, so that the
// error is the same either way.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	return ReadSnapshotContext(context.Background(), r)
}

// ReadSnapshotContext is [ReadSnapshot] that stops with ctx's error, at
// the next read of r, once ctx ends.
func ReadSnapshotContext(ctx context.Context, r io.Reader) (*Snapshot, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		if workers := runtime.GOMAXPROCS(0); workers > 1 {
			return readSnapshotParallel(ctx, rs, workers)
		}
	}
	return readSnapshot(bufio.NewReaderSize(&ctxReader{ctx: ctx, r: r}, 256<<10))
}

// readSnapshotParallel is [ReadSnapshotContext] on workers goroutines.
func readSnapshotParallel(ctx context.Context, rs io.ReadSeeker, workers int) (*Snapshot, error) {
	at, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return readSnapshot(bufio.NewReaderSize(&ctxReader{ctx: ctx, r: rs}, 256<<10))
	}
	first := &ctxReader{ctx: ctx, r: rs}
	if s, ok := readParallel(first, workers); ok {
		return s, nil
	}
	if _, err := rs.Seek(at, io.SeekStart); err != nil {
		return nil, &SnapshotError{Err: fmt.Errorf("read the snapshot again to find its problem: %w", err)}
	}
	var again io.Reader = &ctxReader{ctx: ctx, r: rs}
	if first.err != nil {
		// The first reading stopped at a read error (ctx ended, or r
		// failed): the serial reader is given the same bytes and then the
		// same error, so that it names the place the error came at as it
		// would have alone, and not where reading again happens to stop.
		again = io.MultiReader(io.LimitReader(rs, first.n), errReader{first.err})
	}
	return readSnapshot(bufio.NewReaderSize(again, 256<<10))
}

// ctxReader reads r until ctx ends, counting the bytes it gave and keeping
// the first error other than io.EOF.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// readSnapshot is [ReadSnapshot] on one goroutine.
func readSnapshot(r io.Reader) (*Snapshot, error) {
	t := &tape{r: r}
	sr := &snapReader{tape: t, dec: json.NewDecoder(t)}
	sr.dec.DisallowUnknownFields()
	s, err := sr.read()
	if err != nil {
		return nil, err
	}
	return s, nil
}

type snapReader struct {
	tape *tape
	dec  *json.Decoder
	// decoded holds the accounts already decoded and validated when the
	// input is a skeleton from [readParallel], whose accounts are their
	// numbers; taken counts those read.
	decoded []*Account
	taken   int
}

func (sr *snapReader) fail(path string, err error) error {
	var se *SnapshotError
	if errors.As(err, &se) {
		return err
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		path = join(path, fe.Field)
		err = invalidf("%s", fe.Msg)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// The syntax error quotes the offending character: a file that is
		// not a snapshot at all (a key file) must not have its content
		// echoed, so only the offset is given.
		return &SnapshotError{Path: path, Offset: syn.Offset, Err: &invalidError{msg: "the file is not valid JSON", cause: err}}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &SnapshotError{Path: path, Offset: sr.dec.InputOffset(), Err: &invalidError{msg: "the file ends too early", cause: io.ErrUnexpectedEOF}}
	}
	return &SnapshotError{Path: path, Offset: sr.dec.InputOffset(), Err: err}
}

func (sr *snapReader) read() (*Snapshot, error) {
	s := &Snapshot{}
	if err := sr.delim('{'); err != nil {
		return nil, sr.fail("", err)
	}
	seenSources := false
	for sr.dec.More() {
		key, err := sr.key()
		if err != nil {
			return nil, sr.fail("", err)
		}
		switch key {
		case "format":
			err = sr.dec.Decode(&s.Format)
		case "generatedAt":
			err = sr.dec.Decode(&s.GeneratedAt)
		case "primarySource":
			err = sr.dec.Decode(&s.PrimarySource)
		case "sources":
			seenSources = true
			if err := sr.sources(s); err != nil {
				return nil, err
			}
			continue
		default:
			err = invalidf("unknown field %q", key)
		}
		if err != nil {
			return nil, sr.fail(key, err)
		}
	}
	if err := sr.delim('}'); err != nil {
		return nil, sr.fail("", err)
	}
	switch _, err := sr.dec.Token(); {
	case err == io.EOF:
	case err == nil || errors.As(err, new(*json.SyntaxError)):
		return nil, sr.fail("", invalidf("unexpected data after the snapshot object"))
	default: // a read error, or the context ended, after the object
		return nil, sr.fail("", err)
	}
	switch {
	case s.Format == "":
		return nil, sr.fail("format", invalidf("is required and must be %q", SnapshotFormat))
	case s.Format != SnapshotFormat:
		return nil, sr.fail("format", invalidf("%q is not supported; this version reads %q", s.Format, SnapshotFormat))
	case !seenSources:
		return nil, sr.fail("sources", invalidf("is required"))
	}
	names := make(map[string]int, len(s.Sources))
	for i, src := range s.Sources {
		if j, dup := names[src.Name]; dup {
			return nil, sr.fail(fmt.Sprintf("sources[%d].name", i), invalidf("%q is already the name of sources[%d]", src.Name, j))
		}
		names[src.Name] = i
	}
	if s.PrimarySource != "" {
		if _, ok := names[s.PrimarySource]; !ok {
			return nil, sr.fail("primarySource", invalidf("%q names no source", s.PrimarySource))
		}
	}
	return s, nil
}

func (sr *snapReader) sources(s *Snapshot) error {
	if err := sr.delim('['); err != nil {
		return sr.fail("sources", err)
	}
	for i := 0; sr.dec.More(); i++ {
		path := fmt.Sprintf("sources[%d]", i)
		src, err := sr.source(path)
		if err != nil {
			return err
		}
		s.Sources = append(s.Sources, src)
	}
	if err := sr.delim(']'); err != nil {
		return sr.fail("sources", err)
	}
	return nil
}

func (sr *snapReader) source(path string) (Source, error) {
	var src Source
	if err := sr.delim('{'); err != nil {
		return src, sr.fail(path, err)
	}
	seen := map[string]bool{}
	for sr.dec.More() {
		key, err := sr.key()
		if err != nil {
			return src, sr.fail(path, err)
		}
		seen[key] = true
		switch key {
		case "name":
			err = sr.dec.Decode(&src.Name)
		case "product":
			err = sr.dec.Decode(&src.Product)
		case "tenant":
			err = sr.dec.Decode(&src.Tenant)
		case "accounts":
			if err := sr.accounts(path, &src); err != nil {
				return src, err
			}
			continue
		default:
			err = invalidf("unknown field %q", key)
			key = ""
		}
		if err != nil {
			return src, sr.fail(join(path, key), err)
		}
	}
	if err := sr.delim('}'); err != nil {
		return src, sr.fail(path, err)
	}
	for _, f := range []string{"name", "product", "tenant", "accounts"} {
		if !seen[f] {
			return src, sr.fail(join(path, f), invalidf("is required"))
		}
	}
	if err := validateSource(&src); err != nil {
		return src, sr.fail(path, err)
	}
	return src, nil
}

func (sr *snapReader) accounts(path string, src *Source) error {
	path = join(path, "accounts")
	if err := sr.delim('['); err != nil {
		return sr.fail(path, err)
	}
	ids := map[string]int{}
	if sr.decoded != nil {
		accounts, err := sr.decodedAccounts()
		if err != nil {
			return err
		}
		for j, a := range accounts {
			if _, dup := ids[a.IDInService]; dup {
				return errNotAccount
			}
			ids[a.IDInService] = j
		}
		src.Accounts = append(src.Accounts, accounts...)
	}
	for j := 0; sr.decoded == nil && sr.dec.More(); j++ {
		apath := fmt.Sprintf("%s[%d]", path, j)
		a, err := sr.account(apath)
		if err != nil {
			return err
		}
		if k, dup := ids[a.IDInService]; dup {
			return sr.fail(join(apath, "idInService"), invalidf("%q is already the id of %s[%d]", a.IDInService, path, k))
		}
		ids[a.IDInService] = j
		src.Accounts = append(src.Accounts, a)
	}
	if err := sr.delim(']'); err != nil {
		return sr.fail(path, err)
	}
	return nil
}

// account reads the next account of an accounts array.
func (sr *snapReader) account(apath string) (*Account, error) {
	start := sr.dec.InputOffset()
	sr.tape.forget(start)
	a := &Account{}
	if err := sr.dec.Decode(a); err != nil {
		return nil, sr.fail(apath, sr.explain(err, start))
	}
	if err := validateAccount(a); err != nil {
		return nil, sr.fail(apath, err)
	}
	return a, nil
}

// decodedAccounts takes the next n decoded accounts for an accounts array
// of the skeleton, whose only element is n.
func (sr *snapReader) decodedAccounts() ([]*Account, error) {
	var n int
	if !sr.dec.More() {
		return nil, nil
	}
	if err := sr.dec.Decode(&n); err != nil || n < 1 || n > len(sr.decoded)-sr.taken {
		return nil, errNotAccount
	}
	sr.taken += n
	return sr.decoded[sr.taken-n : sr.taken], nil
}

// explain turns a decoding error into one that names the field. Type errors
// carry their field; timestamp errors do not, so the account's raw bytes
// are examined to find the bad one.
func (sr *snapReader) explain(err error, start int64) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &fieldError{Field: te.Field, Msg: fmt.Sprintf("a JSON %s is not allowed here (want %s)", te.Value, te.Type)}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) || strings.Contains(err.Error(), "Time.UnmarshalJSON") {
		if field := badTimeField(sr.tape.since(start, sr.dec.InputOffset())); field != "" {
			return &fieldError{Field: field, Msg: "is not an RFC 3339 timestamp such as 2026-11-28T10:00:00Z (" + err.Error() + ")"}
		}
		return &invalidError{msg: "a timestamp is not an RFC 3339 timestamp such as 2026-11-28T10:00:00Z: " + err.Error(), cause: err}
	}
	if strings.HasPrefix(err.Error(), "json: unknown field") {
		return invalidf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return err
}

// badTimeField finds the first timestamp field of a raw account that does
// not parse, as a path relative to the account.
func badTimeField(raw []byte) string {
	bad := func(m map[string]json.RawMessage, k string) bool {
		v, ok := m[k]
		if !ok || string(v) == "null" {
			return false
		}
		var t time.Time
		return json.Unmarshal(v, &t) != nil
	}
	var acc map[string]json.RawMessage
	if json.Unmarshal(raw, &acc) != nil {
		return ""
	}
	for _, k := range []string{"created", "lastLogin", "passwordChanged"} {
		if bad(acc, k) {
			return k
		}
	}
	var creds []map[string]json.RawMessage
	if json.Unmarshal(acc["credentials"], &creds) != nil {
		return ""
	}
	for i, c := range creds {
		for _, k := range []string{"created", "lastUsed", "lastRotated"} {
			if bad(c, k) {
				return fmt.Sprintf("credentials[%d].%s", i, k)
			}
		}
	}
	return ""
}

func (sr *snapReader) delim(want json.Delim) error {
	tok, err := sr.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return invalidf("expected %q, found %s", string(want), tokenKind(tok))
	}
	return nil
}

func (sr *snapReader) key() (string, error) {
	tok, err := sr.dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", invalidf("expected a field name, found %v", tok)
	}
	return k, nil
}

func join(path, field string) string {
	switch {
	case field == "":
		return path
	case path == "":
		return field
	}
	return path + "." + field
}

// tape keeps the bytes read since the start of the current account, so that
// a failed account can be examined again for a precise error message.
type tape struct {
	r    io.Reader
	buf  []byte
	base int64 // input offset of buf[0]
}

func (t *tape) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// forget drops the bytes before off once enough have piled up, keeping the
// copying cost proportional to the input.
func (t *tape) forget(off int64) {
	drop := off - t.base
	if drop < 1<<20 || drop > int64(len(t.buf)) {
		return
	}
	t.buf = append(t.buf[:0], t.buf[drop:]...)
	t.base = off
}

// since returns the bytes between two input offsets, trimmed of the comma
// and spaces that separate array elements.
func (t *tape) since(from, to int64) []byte {
	if from < t.base || to-t.base > int64(len(t.buf)) || from > to {
		return nil
	}
	b := t.buf[from-t.base : to-t.base]
	for len(b) > 0 && (b[0] == ',' || b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// WriteSnapshot encodes s with one account per line, streaming to w so
// that a large organization needs no second copy in memory. It fills in
// Format when empty.
func WriteSnapshot(w io.Writer, s *Snapshot) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	format := s.Format
	if format == "" {
		format = SnapshotFormat
	}
	head := struct {
		Format        string    `json:"format"`
		GeneratedAt   time.Time `json:"generatedAt,omitzero"`
		PrimarySource string    `json:"primarySource,omitempty"`
	}{format, s.GeneratedAt, s.PrimarySource}
	b, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("encode snapshot header: %w", err)
	}
	bw.Write(b[:len(b)-1])
	bw.WriteString(`,"sources":[`)
	for i, src := range s.Sources {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		sh := struct {
			Name    string  `json:"name"`
			Product Product `json:"product"`
			Tenant  string  `json:"tenant"`
		}{src.Name, src.Product, src.Tenant}
		if b, err = json.Marshal(sh); err != nil {
			return fmt.Errorf("encode snapshot source %q: %w", src.Name, err)
		}
		bw.Write(b[:len(b)-1])
		bw.WriteString(`,"accounts":[`)
		for j, a := range src.Accounts {
			if j > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n")
			if b, err = json.Marshal(a); err != nil {
				return fmt.Errorf("encode snapshot source %q account %d: %w", src.Name, j, err)
			}
			bw.Write(b)
		}
		bw.WriteString("\n]}")
	}
	bw.WriteString("\n]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// tokenKind names the kind of a JSON token without quoting it, so that an
// error about a file that is not a snapshot does not echo its content.
func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "another value"
}
