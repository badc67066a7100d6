package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// severities in the order the console shows them.
var severities = []string{"Critical", "High", "Medium", "Low"}

// categories of the detection catalog, in the order the console shows them.
var categories = []string{"MFA", "Least Privilege", "Credential Hygiene", "Account Lifecycle"}

// trendDays is how far back the dashboard's trend goes.
const trendDays = 30

// showDashboard serves GET /ispm: open issues by severity and category,
// the trend of the last 30 days and the latest scans.
func (c *Console) showDashboard(w http.ResponseWriter, r *http.Request) {
	if c.svc.Issues == nil {
		c.unavailable(w, r, "Issues")
		return
	}
	ctx := r.Context()
	counts, err := c.svc.Issues.Counts(ctx, issue.Filter{})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	trend, err := c.svc.Issues.Trend(ctx, trendDays)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	v := c.view(w, r, "dashboard", "Dashboard", "ispm")
	v.Set("counts", counts)
	byStatus := map[string]int{}
	for k, n := range counts.ByStatus {
		byStatus[string(k)] = n
	}
	v.Set("byStatus", byStatus)
	v.Set("bySeverity", bars(severities, counts.BySeverity, "severity", true))
	v.Set("byCategory", bars(withOthers(categories, counts.ByCategory), counts.ByCategory, "category", false))
	v.Set("trend", newTrendChart(trend))
	fails, err := c.dashboardFailures(ctx, r)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	v.Set("failures", fails)
	if c.svc.Sources != nil {
		scans, err := c.svc.Sources.Scans(ctx, 5)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		v.Set("scans", scans)
		v.Set("canScan", can(r, auth.PermManageSources))
	}
	v.Render()
}

// withOthers adds to order the keys of m it does not list, so that a
// category the console does not know still shows.
func withOthers(order []string, m map[string]int) []string {
	out := append([]string(nil), order...)
	for _, k := range sortedKeys(m) {
		if !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// barRow is one bar of a horizontal bar chart drawn as inline SVG.
type barRow struct {
	Label string
	N     int
	Class string
	Link  string
	Y     int
	W     int
}

// barChart is a horizontal bar chart: rows of label, bar and count.
type barChart struct {
	Rows   []barRow
	Height int
	Max    int
}

func bars(order []string, m map[string]int, param string, bySeverity bool) barChart {
	const rowH, full = 26, 230
	ch := barChart{}
	for _, k := range order {
		ch.Max = max(ch.Max, m[k])
	}
	for i, k := range order {
		cls := "b-any"
		if bySeverity {
			cls = "b-" + strings.ToLower(k)
		}
		ch.Rows = append(ch.Rows, barRow{Label: k, N: m[k], Class: cls, Y: i * rowH,
			W:    barWidth(m[k], ch.Max, full),
			Link: "/ispm/issues?status=open&" + param + "=" + url.QueryEscape(k)})
	}
	ch.Height = len(order)*rowH + 4
	return ch
}

// trendChart is the open-issue count per day as an SVG polyline.
type trendChart struct {
	Points     string
	Max        int
	First      string
	Last       string
	LastOpen   int
	Days       int
	Width      int
	Height     int
	Baseline   int
	Empty      bool
	Accessible string
}

func newTrendChart(pts []issue.TrendPoint) trendChart {
	const width, height, left, top = 560, 150, 36, 10
	ch := trendChart{Width: width, Height: height, Baseline: height - 20, Days: len(pts)}
	if len(pts) == 0 {
		ch.Empty = true
		return ch
	}
	for _, p := range pts {
		ch.Max = max(ch.Max, p.Open)
	}
	scale := ch.Max
	if scale == 0 {
		scale = 1
	}
	plotH := ch.Baseline - top
	step := float64(width-left-10) / float64(max(len(pts)-1, 1))
	var b strings.Builder
	for i, p := range pts {
		x := float64(left) + float64(i)*step
		y := float64(ch.Baseline) - float64(p.Open)/float64(scale)*float64(plotH)
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	ch.Points = strings.TrimSpace(b.String())
	ch.First = pts[0].Day.Format("Jan 2")
	ch.Last = pts[len(pts)-1].Day.Format("Jan 2")
	ch.LastOpen = pts[len(pts)-1].Open
	ch.Accessible = fmt.Sprintf("Open issues per day from %s to %s: %d at the start, %d now, at most %d.",
		ch.First, ch.Last, pts[0].Open, ch.LastOpen, ch.Max)
	return ch
}
