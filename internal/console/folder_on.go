package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxFolderSummary bounds the summary of a folder's refused flows, which
// travels in the flash cookie.
const maxFolderSummary = 1500

// turnOnFolder serves POST /workflows/folders/{id}/on: Turn on this
// folder's flows, in one action. Each flow that is off goes through the
// same SetFlowOn as its own switch, so the service's refusals (a missing
// connection, a missing variable) still hold; flows it refuses stay off
// and the summary groups them by the reason. A flow refused because of
// another in the folder is tried again once that one is on.
func (c *Console) turnOnFolder(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	back := "/workflows/flows?folder=" + url.QueryEscape(id)
	folders, err := c.svc.Flows.Folders(ctx)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	var folder *Folder
	for _, f := range folders {
		if f.ID == id {
			folder = f
		}
	}
	if folder == nil {
		c.notFound(w, r)
		return
	}
	list, err := c.svc.Flows.Flows(ctx, id)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	var pending []*FlowSummary
	for _, f := range list {
		if !f.On {
			pending = append(pending, f)
		}
	}
	if len(pending) == 0 {
		c.redirect(w, r, back, flashOK, "Every flow of "+folder.Name+" is on already.")
		return
	}
	turned := 0
	reasons := map[string]string{}
	for progress := true; progress && len(pending) > 0; {
		progress = false
		var refused []*FlowSummary
		for _, f := range pending {
			err := c.svc.Flows.SetFlowOn(ctx, f.ID, true)
			if err == nil {
				turned++
				progress = true
				continue
			}
			msg, ok := userMessage(err)
			if !ok {
				c.serverError(w, r, err)
				return
			}
			reasons[f.ID] = msg
			refused = append(refused, f)
		}
		pending = refused
	}
	if len(pending) == 0 {
		c.redirect(w, r, back, flashOK, fmt.Sprintf("Turned on %d %s: every flow of %s is on.", turned, plural(turned, "flow", "flows"), folder.Name))
		return
	}
	c.redirect(w, r, back, flashError, folderSummary(folder.Name, turned, pending, reasons))
}

// folderSummary says how many flows were turned on and, grouped by the
// reason, which were not and why, in at most maxFolderSummary bytes.
func folderSummary(folder string, turned int, refused []*FlowSummary, reasons map[string]string) string {
	var order []string
	titles := map[string][]string{}
	for _, f := range refused {
		why := reasons[f.ID]
		if _, ok := titles[why]; !ok {
			order = append(order, why)
		}
		titles[why] = append(titles[why], f.Title)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Turned on %d %s of %s; %d stayed off.", turned, plural(turned, "flow", "flows"), folder, len(refused))
	for i, why := range order {
		part := fmt.Sprintf(" %s: %s", strings.Join(titles[why], ", "), strings.TrimSuffix(why, ".")+".")
		if b.Len()+len(part) > maxFolderSummary {
			fmt.Fprintf(&b, " And %d more reasons; open each flow to see why.", len(order)-i)
			break
		}
		b.WriteString(part)
	}
	return b.String()
}
