package console_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

var (
	peopleTable = regexp.MustCompile(`(?s)data-testid="people-list">.*?<tbody>(.*?)</tbody>`)
	tableRow    = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	tableCell   = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
)

// peopleColumn returns one column of the people list's rows, in order.
func peopleColumn(t *testing.T, body string, col int) []string {
	t.Helper()
	m := peopleTable.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no people list: %.2000s", body)
	}
	var out []string
	for _, row := range tableRow.FindAllStringSubmatch(m[1], -1) {
		cells := tableCell.FindAllStringSubmatch(row[1], -1)
		if len(cells) > col {
			out = append(out, strings.TrimSpace(cells[col][1]))
		}
	}
	return out
}

// TestIdentityListSorts sorts the people list of a scanned synthetic
// organization on both databases by email and by last sign-in, each way:
// the two pages together list every person once, in order, with "Never"
// as the oldest sign-in on both databases.
func TestIdentityListSorts(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			w := consoletest.New(t, consoletest.Options{Dialect: dialect, Logger: testLogger(t)})
			w.ScanSynthetic(t, "org", 70, 3)
			admin := w.Client(t, auth.RoleSuperAdmin)
			both := func(query string, col int) []string {
				first := get(t, admin, w.URL+"/ispm/identities?"+query).Body
				second := get(t, admin, w.URL+"/ispm/identities?"+query+"&offset=50").Body
				return append(peopleColumn(t, first, col), peopleColumn(t, second, col)...)
			}
			byName := both("", 1)
			if len(byName) < 51 {
				t.Fatalf("the organization has %d people; want more than a page", len(byName))
			}
			emailAsc := both("sort=email&dir=asc", 1)
			emailDesc := both("sort=email&dir=desc", 1)
			if !slices.IsSorted(emailAsc) {
				t.Errorf("sorted by email ascending: %v", emailAsc)
			}
			rev := slices.Clone(emailDesc)
			slices.Reverse(rev)
			if !slices.Equal(rev, emailAsc) {
				t.Errorf("descending is not ascending reversed:\n%v\n%v", emailDesc, emailAsc)
			}
			sorted := slices.Clone(byName)
			slices.Sort(sorted)
			if !slices.Equal(sorted, emailAsc) {
				t.Error("the sorted pages do not list every person once")
			}
			// "Never" is the oldest; dates to the minute sort as text.
			key := func(s string) string {
				if s == "Never" {
					return ""
				}
				return s
			}
			login := both("sort=lastLogin&dir=asc", 4)
			if !slices.IsSortedFunc(login, func(a, b string) int { return strings.Compare(key(a), key(b)) }) {
				t.Errorf("sorted by last sign-in ascending: %v", login)
			}
			if !slices.Contains(login, "Never") || login[0] != "Never" {
				t.Errorf("the synthetic organization has no one who never signed in first: %v", login[:3])
			}
			loginDesc := both("sort=lastLogin&dir=desc", 4)
			if loginDesc[len(loginDesc)-1] != "Never" || !slices.IsSortedFunc(loginDesc, func(a, b string) int { return strings.Compare(key(b), key(a)) }) {
				t.Errorf("sorted by last sign-in descending: %v", loginDesc)
			}
			page := get(t, admin, w.URL+"/ispm/identities?sort=email&dir=asc&privileged=true").Body
			if !strings.Contains(page, `aria-sort="ascending"><a href="/ispm/identities?dir=desc&amp;privileged=true&amp;sort=email">Email ▲</a>`) {
				t.Error("the Email header does not keep the filter and toggle to descending")
			}
		})
	}
}
