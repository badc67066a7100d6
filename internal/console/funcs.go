package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/secret"
)

// funcs are the helpers templates may call.
func funcs() template.FuncMap {
	m := template.FuncMap{
		"date":     formatDate,
		"seconds":  formatSeconds,
		"ago":      formatAgo,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"dur":      formatDuration,
		"json":     prettyJSON,
		"sameJSON": sameJSON,
		"mask":     secret.Mask,
		"join":     strings.Join,
		"lower":    strings.ToLower,
		"add":      func(a, b int) int { return a + b },
		"sub":      func(a, b int) int { return a - b },
		"sevClass": severityClass,
		"statusClass": func(s string) string {
			return "st-" + strings.ReplaceAll(strings.ToLower(s), " ", "_")
		},
		"label":           labelOf,
		"contains":        contains,
		"has":             func(m map[string]bool, k string) bool { return m[k] },
		"bar":             barWidth,
		"expr":            func(e *dsl.Expr) string { return exprText(e) },
		"value":           valueText,
		"lines":           func(s string) []int { return lineNumbers(s) },
		"errLine":         func(m map[int]bool, n int) bool { return m[n] },
		"itoa":            strconv.Itoa,
		"product":         productName,
		"failure":         failureText,
		"failureSentence": failureSentence,
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
	}
	for k, f := range builderFuncs() {
		m[k] = f
	}
	return m
}

// formatDate shows a time in UTC to the minute; zero times show a dash.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// formatSeconds shows a time in UTC to the second, for lists whose rows
// are often minutes apart; zero times show a dash.
func formatSeconds(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// formatAgo says how long before now t was, the way a person says it: "just
// now", "42 s ago", "3 min ago", "5 h ago", "2 days ago". A time after now
// (clocks of two nodes differ) reads "just now".
func formatAgo(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// formatDuration shows a duration the way a person reads it.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
}

// prettyJSON indents a JSON document for display; anything else is shown as
// JSON of itself.
// sameJSON reports whether two JSON documents hold the same value, whatever
// their spacing and key order: a task whose input is the execution's input
// shows it once, not again in every row.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func prettyJSON(v any) string {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	case string:
		raw = []byte(x)
	default:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

func severityClass(s string) string {
	switch strings.ToLower(s) {
	case "critical":
		return "sev-critical"
	case "high":
		return "sev-high"
	case "medium":
		return "sev-medium"
	case "low":
		return "sev-low"
	}
	return "sev-none"
}

// labelOf turns an identifier such as false_positive into "False positive".
func labelOf(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// barWidth scales n against max to a width out of full, at least 1 when n
// is positive so that small counts stay visible.
func barWidth(n, max, full int) int {
	if n <= 0 || max <= 0 {
		return 0
	}
	w := int(math.Round(float64(n) / float64(max) * float64(full)))
	if w < 1 {
		w = 1
	}
	return w
}

func exprText(e *dsl.Expr) string {
	if e == nil {
		return ""
	}
	return "${ " + strings.TrimSpace(e.Source) + " }"
}

// valueText shows a template value of a flow document in one line: literal
// strings as they are, expressions as ${ … }, objects and lists as JSON-ish
// text.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case *dsl.Expr:
		return exprText(x)
	case *dsl.Template:
		if x == nil {
			return ""
		}
		return valueText(x.Value)
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+": "+valueText(x[k]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, valueText(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// lineNumbers returns 1..n for the lines of s, for the editor's gutter.
func lineNumbers(s string) []int {
	n := strings.Count(s, "\n") + 1
	if strings.HasSuffix(s, "\n") {
		n--
	}
	out := make([]int, max(n, 1))
	for i := range out {
		out[i] = i + 1
	}
	return out
}
