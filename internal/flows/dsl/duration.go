package dsl

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	isoDuration  = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
	isoYearMonth = regexp.MustCompile(`^P(?:\d+(?:\.\d+)?Y)|^P(?:\d+(?:\.\d+)?Y)?\d+(?:\.\d+)?M`)
	uriPattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+\-.]*://.+`)
	varPattern   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ParseISODuration reads an ISO 8601 duration such as PT30S or P1DT2H.
// Years and months are refused: their length depends on the calendar.
func ParseISODuration(s string) (time.Duration, error) {
	if s == "P" || s == "PT" || s == "" {
		return 0, fmt.Errorf("invalid ISO 8601 duration %q", s)
	}
	if isoYearMonth.MatchString(s) {
		return 0, fmt.Errorf("ISO 8601 duration %q uses years or months, which are not supported: use weeks, days, hours, minutes or seconds", s)
	}
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s[len(s)-1] == 'T' {
		return 0, fmt.Errorf("invalid ISO 8601 duration %q", s)
	}
	units := []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var total float64
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		v, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid ISO 8601 duration %q", s)
		}
		total += v * float64(u)
	}
	if total > math.MaxInt64/2 {
		return 0, fmt.Errorf("ISO 8601 duration %q is too long", s)
	}
	return time.Duration(total), nil
}

// duration reads a duration: an inline object, an ISO 8601 string or a
// runtime expression.
func (p *parser) duration(n *yaml.Node, path string, scope []string) *Duration {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		s := p.str(n, path)
		if s == "" {
			return nil
		}
		if src, ok := IsExpr(s); ok {
			return &Duration{Expr: p.compile(n, path, src, scope)}
		}
		d, err := ParseISODuration(s)
		if err != nil {
			p.errorf(n, path, "%v", err)
			return nil
		}
		return &Duration{Value: d}
	}
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "days", "hours", "minutes", "seconds", "milliseconds")
	if len(fs) == 0 {
		p.errorf(n, path, "expected at least one of days, hours, minutes, seconds, milliseconds")
	}
	var d time.Duration
	units := map[string]time.Duration{"days": 24 * time.Hour, "hours": time.Hour, "minutes": time.Minute, "seconds": time.Second, "milliseconds": time.Millisecond}
	for _, f := range fs {
		v := p.integer(f.v, join(path, f.key))
		if v < 0 {
			p.errorf(f.v, join(path, f.key), "expected a positive integer")
		}
		d += time.Duration(v) * units[f.key]
	}
	return &Duration{Value: d}
}
