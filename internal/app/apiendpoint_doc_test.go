package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/app/apptest"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// apiEndpointDoc is the invoke contract's page; every curl example in it
// is run by TestAPIEndpointDocExamples.
const apiEndpointDoc = "../../docs/api-endpoint.md"

// docBlocks returns the fenced blocks of a Markdown file written with the
// given info string.
func docBlocks(t *testing.T, path, lang string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?ms)^```" + lang + "\n(.*?)^```\n")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestAPIEndpointDocExamples imports the page's example flows into a real
// server on loopback and runs each curl command of its sh blocks, checking
// the answer against the "# answers STATUS TEXT" line under the command:
// the status, and TEXT somewhere in what curl would print.
func TestAPIEndpointDocExamples(t *testing.T) {
	flowDocs := docBlocks(t, apiEndpointDoc, "yaml")
	examples := docBlocks(t, apiEndpointDoc, "sh")
	if len(flowDocs) != 2 || len(examples) < 8 {
		t.Fatalf("the page has %d flows and %d sh blocks; want its 2 flows and every example", len(flowDocs), len(examples))
	}
	eachDialect(t, func(t *testing.T, dialect string) {
		vars := map[string]string{}
		r := startNode(t, storetest.DatabaseURL(t, dialect), "", func(ctx context.Context, srv *app.Server) {
			svc := srv.Services()
			folder, err := svc.Flows.CreateFolder(ctx, "Examples", "")
			if err != nil {
				t.Fatal(err)
			}
			names := map[string][2]string{"Echo": {"INVOKE_URL", "CLIENT_TOKEN"}, "Create ticket": {"TICKET_URL", "TICKET_TOKEN"}}
			for _, doc := range flowDocs {
				ef := apptest.SaveEndpointFlow(ctx, t, svc, folder.ID, doc)
				v, ok := names[ef.Title]
				if !ok {
					t.Fatalf("the page's flow %q has no variables in this test", ef.Title)
				}
				vars[v[0]], vars[v[1]] = invoke.InvokeURL(srv.PublicURL(), ef.Alias), ef.Token
			}
		})
		vars["VIGIL"] = r.url
		n := 0
		for _, block := range examples {
			for _, ex := range parseExamples(t, block) {
				n++
				status, out := runCurl(t, ex.words, vars)
				if status != ex.status || !strings.Contains(out, ex.text) {
					t.Errorf("%s\nanswered %d:\n%s\nwant %d and %q", ex.source, status, out, ex.status, ex.text)
				}
			}
		}
		if n < 10 {
			t.Errorf("ran %d curl examples; want every one of the page", n)
		}
	})
}

type curlExample struct {
	source string
	words  []string
	status int
	text   string
}

var answersLine = regexp.MustCompile(`^# answers (\d{3})(?: (.*))?$`)

// parseExamples splits an sh block into commands (joining lines ended by
// a backslash), each followed by its "# answers" line.
func parseExamples(t *testing.T, block string) []curlExample {
	t.Helper()
	var out []curlExample
	var cmd strings.Builder
	for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		if m := answersLine.FindStringSubmatch(line); m != nil {
			if cmd.Len() == 0 {
				t.Fatalf("an answers line without a command in:\n%s", block)
			}
			status, _ := strconv.Atoi(m[1])
			out = append(out, curlExample{source: cmd.String(), words: shellWords(t, cmd.String()), status: status, text: m[2]})
			cmd.Reset()
			continue
		}
		if cmd.Len() > 0 && strings.HasSuffix(cmd.String(), "\\") {
			s := strings.TrimSuffix(cmd.String(), "\\")
			cmd.Reset()
			cmd.WriteString(s)
		} else if cmd.Len() > 0 {
			t.Fatalf("command without an answers line:\n%s", cmd.String())
		}
		cmd.WriteString(line)
	}
	if cmd.Len() > 0 {
		t.Fatalf("command without an answers line:\n%s", cmd.String())
	}
	return out
}

// shellWords splits a command as sh would: single quotes literal, double
// quotes and bare words with $NAME expanded later (kept as \x00NAME\x00).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				t.Fatalf("unclosed quote in %s", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				t.Fatalf("unclosed quote in %s", s)
			}
			w.WriteString(markVars(s[i+1 : i+1+j]))
			i += j + 1
			inWord = true
		case ' ', '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case '$', '\\', '`', ';', '|', '&', '>', '<':
			if c == '$' {
				j := i + 1
				for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z') {
					j++
				}
				w.WriteString(markVars(s[i:j]))
				i = j - 1
				inWord = true
				continue
			}
			t.Fatalf("the example uses shell syntax this test does not run (%q): %s", c, s)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

var varRef = regexp.MustCompile(`\$([A-Z_]+)`)

func markVars(s string) string { return varRef.ReplaceAllString(s, "\x00$1\x00") }

// runCurl performs the request a curl command line describes (the flags
// -s, -S, -i, -X, -H and -d only; anything else fails the test) and returns
// the status and what curl would print.
func runCurl(t *testing.T, words []string, vars map[string]string) (int, string) {
	t.Helper()
	expand := func(s string) string {
		parts := strings.Split(s, "\x00")
		for i := 1; i < len(parts); i += 2 {
			v, ok := vars[parts[i]]
			if !ok {
				t.Fatalf("the example uses $%s, which the page does not define", parts[i])
			}
			parts[i] = v
		}
		return strings.Join(parts, "")
	}
	if len(words) == 0 || words[0] != "curl" {
		t.Fatalf("not a curl command: %q", words)
	}
	var method, rawURL, body string
	var hasBody, include bool
	header := http.Header{}
	for i := 1; i < len(words); i++ {
		arg := func() string {
			i++
			if i >= len(words) {
				t.Fatalf("%s needs a value", words[i-1])
			}
			return expand(words[i])
		}
		switch words[i] {
		case "-s", "-S", "-sS":
		case "-i":
			include = true
		case "-X":
			method = arg()
		case "-H":
			k, v, ok := strings.Cut(arg(), ":")
			if !ok {
				t.Fatalf("bad header %q", words[i])
			}
			header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		case "-d":
			body, hasBody = arg(), true
		default:
			if strings.HasPrefix(words[i], "-") || rawURL != "" {
				t.Fatalf("the example uses curl's %s, which this test does not translate", words[i])
			}
			rawURL = expand(words[i])
		}
	}
	if method == "" {
		method = http.MethodGet
		if hasBody {
			method = http.MethodPost
		}
	}
	if hasBody && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d sends
	}
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out strings.Builder
	if include {
		fmt.Fprintf(&out, "%s %s\n", resp.Proto, resp.Status)
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(&out, "%s: %s\n", k, v)
			}
		}
		out.WriteString("\n")
	}
	out.Write(b)
	return resp.StatusCode, out.String()
}
