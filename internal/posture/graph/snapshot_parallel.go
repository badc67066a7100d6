package graph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
)

// readParallel decodes a snapshot with its accounts spread over workers
// goroutines. One goroutine splits the stream: each object directly inside
// an array that is inside an object inside an array inside the top object
// (where a snapshot's accounts are) is cut out and handed to a worker, and
// what is left, the skeleton, has in each accounts array only the number of
// its accounts. The skeleton is then read as a snapshot with the decoded
// accounts in their order.
//
// It answers ok only when the file is a valid snapshot, with the same
// snapshot the serial reader would return: the cut-out objects and the
// skeleton together are the file's bytes, each decoded with the serial
// reader's rules. It answers !ok on anything wrong or unexpected, leaving
// the serial reader, run again from the start, to describe the problem,
// so that error messages, paths and offsets have one source.
func readParallel(r io.Reader, workers int) (*Snapshot, bool) {
	sp := &splitter{
		jobs: make(chan *accountBatch, 2*workers),
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range sp.jobs {
				if !sp.failed.Load() {
					b.decode(&sp.failed)
				}
			}
		})
	}
	ok := sp.split(r)
	close(sp.jobs)
	wg.Wait()
	if !ok || sp.failed.Load() {
		return nil, false
	}
	accounts := make([]*Account, 0, sp.next)
	for _, b := range sp.batches {
		accounts = append(accounts, b.accounts...)
	}
	t := &tape{r: bytes.NewReader(sp.skeleton)}
	sr := &snapReader{tape: t, dec: json.NewDecoder(t), decoded: accounts}
	sr.dec.DisallowUnknownFields()
	s, err := sr.read()
	if err != nil || sr.taken != len(accounts) {
		return nil, false
	}
	return s, true
}

// accountBatch is a run of consecutive accounts cut out of the stream:
// raw holds their bytes back to back, ends where each one ends.
type accountBatch struct {
	raw      []byte
	ends     []int
	accounts []*Account
}

// batchBytes bounds a batch so that a worker's share is large enough to
// be worth a channel send and small enough to keep both cores busy.
const batchBytes = 128 << 10

// decode decodes and validates the batch's accounts as the serial reader
// does each account, marking failed at the first problem.
func (b *accountBatch) decode(failed *atomic.Bool) {
	b.accounts = make([]*Account, 0, len(b.ends))
	// One allocation for the batch's accounts: alone, each would be
	// rounded up to the allocator's next size class.
	slab := make([]Account, len(b.ends))
	dec := json.NewDecoder(bytes.NewReader(b.raw))
	dec.DisallowUnknownFields()
	for i, end := range b.ends {
		a := &slab[i]
		if dec.Decode(a) != nil || dec.InputOffset() != int64(end) || validateAccount(a) != nil {
			failed.Store(true)
			return
		}
		b.accounts = append(b.accounts, a)
	}
	b.raw = nil
}

// splitter cuts a snapshot stream into account batches and a skeleton.
type splitter struct {
	jobs     chan *accountBatch
	failed   atomic.Bool
	batches  []*accountBatch
	skeleton []byte
	next     int // number of the next account

	stack    []byte // open containers outside an account: '{' or '['
	inString bool
	escaped  bool
	// In an accounts array: how many accounts it has so far, and whether
	// a comma came last.
	inArray int
	comma   bool
	// Within an account being cut out.
	cur   *accountBatch
	depth int // open containers within the account; 0 outside one
}

// split reads r to its end, answering false at a read error or a shape
// the serial reader would reject anyway.
func (sp *splitter) split(r io.Reader) bool {
	br := bufio.NewReaderSize(r, 256<<10)
	buf := make([]byte, 256<<10)
	for {
		n, err := br.Read(buf)
		if !sp.feed(buf[:n]) {
			return false
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return false
		}
		if sp.failed.Load() {
			return false
		}
	}
	if sp.depth != 0 || sp.inString {
		return false
	}
	sp.flush()
	return true
}

// atAccounts reports whether the open containers are where accounts are:
// top object, sources array, source object, accounts array.
func (sp *splitter) atAccounts() bool {
	s := sp.stack
	return len(s) == 4 && s[0] == '{' && s[1] == '[' && s[2] == '{' && s[3] == '['
}

func (sp *splitter) feed(p []byte) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if sp.depth > 0 {
			// Inside an account: copy up to the end of its object.
			j := i
			for ; j < len(p); j++ {
				c = p[j]
				if sp.inString {
					sp.stringByte(c)
					continue
				}
				switch c {
				case '"':
					sp.inString = true
				case '{', '[':
					sp.depth++
				case '}', ']':
					sp.depth--
				}
				if sp.depth == 0 {
					break
				}
			}
			if j == len(p) {
				sp.cur.raw = append(sp.cur.raw, p[i:]...)
				return true
			}
			sp.cur.raw = append(sp.cur.raw, p[i:j+1]...)
			sp.cur.ends = append(sp.cur.ends, len(sp.cur.raw))
			sp.inArray++
			sp.comma = false
			sp.next++
			if len(sp.cur.raw) >= batchBytes {
				sp.flush()
			}
			i = j
			continue
		}
		if sp.inString {
			sp.stringByte(c)
			sp.skeleton = append(sp.skeleton, c)
			continue
		}
		if sp.atAccounts() {
			// The array's accounts are cut out and it keeps only their
			// number, its commas checked here instead.
			switch c {
			case ' ', '\t', '\n', '\r':
			case ',':
				if sp.inArray == 0 || sp.comma {
					return false
				}
				sp.comma = true
			case ']':
				if sp.comma {
					return false
				}
				if sp.inArray > 0 {
					sp.skeleton = strconv.AppendInt(sp.skeleton, int64(sp.inArray), 10)
				}
				sp.skeleton = append(sp.skeleton, c)
				sp.stack = sp.stack[:len(sp.stack)-1]
			case '{':
				if sp.inArray > 0 && !sp.comma {
					return false
				}
				if sp.cur == nil {
					sp.cur = &accountBatch{}
				}
				sp.depth = 1
				sp.cur.raw = append(sp.cur.raw, c)
			default:
				return false
			}
			continue
		}
		switch c {
		case '"':
			sp.inString = true
		case '{', '[':
			sp.stack = append(sp.stack, c)
			sp.inArray, sp.comma = 0, false
		case '}', ']':
			if len(sp.stack) == 0 {
				return false
			}
			sp.stack = sp.stack[:len(sp.stack)-1]
		}
		sp.skeleton = append(sp.skeleton, c)
	}
	return true
}

// stringByte follows a byte within a string, to find where it ends.
func (sp *splitter) stringByte(c byte) {
	switch {
	case sp.escaped:
		sp.escaped = false
	case c == '\\':
		sp.escaped = true
	case c == '"':
		sp.inString = false
	}
}

// flush hands the batch being filled to a worker. It is called between
// accounts only.
func (sp *splitter) flush() {
	if sp.cur == nil || len(sp.cur.ends) == 0 {
		return
	}
	b := sp.cur
	sp.cur = nil
	sp.batches = append(sp.batches, b)
	sp.jobs <- b
}

// errNotAccount tells the parallel reader that the skeleton has something
// other than a number of accounts where accounts are.
var errNotAccount = errors.New("not an account number")
