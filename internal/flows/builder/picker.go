package builder

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Pick is one entry of the field picker: a jq path into data a card can
// read, and a short sample of its value.
type Pick struct {
	Expr string
	// Label is Expr without the prefix, for a short list.
	Label  string
	Sample string
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Picks lists the paths of the leaves and objects of v (decoded JSON) under
// prefix ("." or "$workflow.input"), depth first, keys sorted, at most max
// of them. Lists show their first item only.
func Picks(prefix string, v any, max int) []Pick {
	var out []Pick
	var visit func(path string, v any, depth int)
	visit = func(path string, v any, depth int) {
		if len(out) >= max || depth > 8 {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			if path != prefix {
				out = append(out, Pick{Expr: path, Sample: "{…}"})
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				visit(join(path, k), t[k], depth+1)
			}
		case []any:
			out = append(out, Pick{Expr: path, Sample: "[" + strconv.Itoa(len(t)) + " items]"})
			if len(t) > 0 {
				visit(path+"[0]", t[0], depth+1)
			}
		default:
			b, _ := json.Marshal(t)
			s := string(b)
			if len(s) > 60 {
				s = s[:57] + "…"
			}
			out = append(out, Pick{Expr: path, Sample: s})
		}
	}
	visit(prefix, v, 0)
	for i := range out {
		out[i].Label = out[i].Expr
		if prefix != "." {
			out[i].Label = strings.TrimPrefix(out[i].Expr, prefix)
		}
	}
	return out
}

func join(path, key string) string {
	if !identifier.MatchString(key) {
		if path == "." {
			return `.["` + key + `"]`
		}
		return path + `["` + key + `"]`
	}
	if path == "." {
		return "." + key
	}
	return path + "." + key
}

// References gives each card the JSON pointer the engine records its steps
// under: /do/0/name, /do/2/remediate/try/0/suspend, …/catch/do/0/logError.
func References(cards []*Card) map[*Card]string {
	out := map[*Card]string{}
	var refs func(list []*Card, base string)
	refs = func(list []*Card, base string) {
		for i, c := range list {
			r := base + "/" + strconv.Itoa(i) + "/" + c.Name
			out[c] = r
			if c.Kind == KindTry {
				refs(c.Do, r+"/try")
			} else {
				refs(c.Do, r+"/do")
			}
			refs(c.Catch, r+"/catch/do")
		}
	}
	refs(cards, "/do")
	return out
}
