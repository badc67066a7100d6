package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// products are the sourceProductName values, in the order the filter offers
// them.
var products = []string{event.ProductOkta, event.ProductEntra, event.ProductGoogle, event.ProductSalesforce, event.ProductAWS}

// issueColumns are the issue list's sortable columns, in the store's names
// (store.PostureIssueSorts).
var issueColumns = []sortColumn{{Key: "severity", Label: "Severity"}, {Key: "title", Label: "Title"},
	{Key: "affected", Label: "Affected"}, {Key: "product", Label: "Product"}, {Key: "category", Label: "Category"},
	{Key: "status", Label: "Status"}, {Key: "detected", Label: "Detected"}}

// issueFilter reads the issue list's filters from the query: status (open
// by default, "all" for any), severity, category, product, source, title
// and q; and where the page is: after or before a cursor the previous page
// gave, or at an offset (the Last link, and older bookmarks).
func issueFilter(r *http.Request) (issue.Filter, string) {
	q := r.URL.Query()
	f := issue.Filter{Limit: pageSize, Offset: offsetParam(r), Search: strings.TrimSpace(q.Get("q")),
		After: q.Get("after"), Before: q.Get("before")}
	status := q.Get("status")
	switch status {
	case "":
		status = string(issue.StatusOpen)
		f.Statuses = []issue.Status{issue.StatusOpen}
	case "all":
	default:
		if s, err := issue.ParseStatus(status); err == nil {
			f.Statuses = []issue.Status{s}
			status = string(s)
		} else {
			status = "all"
		}
	}
	one := func(key string) []string {
		if v := strings.TrimSpace(q.Get(key)); v != "" {
			return []string{v}
		}
		return nil
	}
	f.Severities, f.Categories, f.Products, f.Sources, f.Titles = one("severity"), one("category"), one("product"), one("source"), one("title")
	f.Sort, f.Desc = readSort(r, issueColumns)
	if f.Sort == "severity" && f.Desc {
		f.Sort, f.Desc = "", false // the list order itself, paged by cursor
	}
	if f.Sort != "" {
		f.After, f.Before = "", ""
	}
	return f, status
}

// showIssueList serves GET /ispm/issues: filters, search, one page of
// issues and, for responders, the bulk actions.
func (c *Console) showIssueList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Issues == nil {
		c.unavailable(w, r, "Issues")
		return
	}
	ctx := r.Context()
	f, status := issueFilter(r)
	page, err := c.svc.Issues.List(ctx, f)
	paged := f.After != "" || f.Before != "" || f.Offset > 0
	// A cursor from an old link, a page that has emptied since, or a short
	// page before the first: show the first page instead.
	if paged && (errors.Is(err, issue.ErrBadCursor) || err == nil && (len(page.Issues) == 0 ||
		f.Before != "" && page.Prev == "" && len(page.Issues) < f.Limit)) {
		f.After, f.Before, f.Offset = "", "", 0
		page, err = c.svc.Issues.List(ctx, f)
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	sources, err := c.sourceNames(ctx, r)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	q := r.URL.Query()
	var titles []string
	for _, d := range c.svc.Titles() {
		titles = append(titles, d.Title)
	}
	v := c.view(w, r, "issue_list", "Issues", "ispm").Set("tab", "issues")
	v.Set("page", page).Set("pager", newIssuePager(r, page, f.Limit, f.Sort != ""))
	v.Set("columns", sortHeaders(r, issueColumns, f.Sort, f.Desc, "severity", true))
	v.Set("sort", q.Get("sort")).Set("dir", q.Get("dir"))
	v.Set("status", status).Set("statuses", issue.Statuses())
	v.Set("severity", q.Get("severity")).Set("severities", severities)
	v.Set("category", q.Get("category")).Set("categories", categories)
	v.Set("product", q.Get("product")).Set("products", products)
	v.Set("source", q.Get("source")).Set("sources", sources)
	v.Set("titleFilter", q.Get("title")).Set("titles", titles)
	v.Set("q", f.Search)
	v.Set("canRespond", can(r, auth.PermRespondIssues))
	if c.svc.Flows != nil && can(r, auth.PermManageFlows) {
		onDemand, err := c.svc.Flows.OnDemandFlows(ctx)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		v.Set("onDemand", onDemand)
	}
	v.Set("back", r.URL.RequestURI())
	v.Render()
}

// issuePager is the issue list's pager. Previous and Next page by cursor,
// so that a page deep in the list costs what the first one does; Last goes
// by offset, which the list's index also serves.
type issuePager struct {
	// From and To number the page's first and last issue (from 1), of Total.
	From, To, Total int
	// Page is the page's number of Pages, counting from its first issue.
	Page, Pages             int
	First, Prev, Next, Last string
}

func newIssuePager(r *http.Request, p issue.Page, limit int, sorted bool) issuePager {
	ip := issuePager{Total: p.Total, From: p.Offset + 1, To: p.Offset + len(p.Issues)}
	ip.Pages = max((p.Total+limit-1)/limit, 1)
	ip.Page = min((p.Offset+limit-1)/limit+1, ip.Pages)
	if sorted {
		// A list sorted by another column pages by offset.
		if p.Offset > 0 {
			ip.First = queryWith(r, "offset", "", "after", "", "before", "")
			ip.Prev = queryWith(r, "offset", itoa(max(p.Offset-limit, 0)), "after", "", "before", "")
		}
		if p.Offset+len(p.Issues) < p.Total {
			ip.Next = queryWith(r, "offset", itoa(p.Offset+limit), "after", "", "before", "")
			ip.Last = queryWith(r, "after", "", "before", "", "offset", itoa((ip.Pages-1)*limit))
		}
		return ip
	}
	if p.Prev != "" {
		ip.First = queryWith(r, "offset", "", "after", "", "before", "")
		ip.Prev = queryWith(r, "offset", "", "after", "", "before", p.Prev)
	}
	if p.Next != "" {
		ip.Next = queryWith(r, "offset", "", "before", "", "after", p.Next)
		ip.Last = queryWith(r, "after", "", "before", "", "offset", itoa((ip.Pages-1)*limit))
	}
	return ip
}
