package salesforcetest

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// fields lists, per object, the fields the fake can return, in Salesforce's
// own casing. A relationship field is "Relation.Field".
var fields = map[string][]string{
	"User": {"Id", "Username", "Email", "Name", "IsActive", "LastLoginDate", "Profile.Name", "UserType",
		"LastPasswordChangeDate", "CreatedDate"},
	"PermissionSetAssignment": {"Id", "AssigneeId", "PermissionSetId", "PermissionSet.Name", "PermissionSet.Label",
		"PermissionSet.IsOwnedByProfile", "PermissionSet.PermissionsModifyAllData", "PermissionSet.PermissionsViewAllData"},
	"Organization": {"Id", "Name", "InstanceName", "IsSandbox"},
}

// wheres are the WHERE clauses the fake understands, with their filters.
var wheres = map[string]func(map[string]any) bool{
	"PermissionSet.PermissionsModifyAllData = true OR PermissionSet.PermissionsViewAllData = true": func(r map[string]any) bool {
		ps := r["PermissionSet"].(map[string]any)
		return ps["PermissionsModifyAllData"] == true || ps["PermissionsViewAllData"] == true
	},
}

var soqlPattern = regexp.MustCompile(`(?is)^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?\s*$`)

func (s *Server) query(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query().Get("q")
	m := soqlPattern.FindStringSubmatch(q)
	if m == nil {
		sfError(w, http.StatusBadRequest, "MALFORMED_QUERY", "unexpected token: '"+firstWord(q)+"'")
		return
	}
	object := m[2]
	known, ok := fields[object]
	if !ok {
		sfError(w, http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", object))
		return
	}
	var selected []string
	for _, f := range strings.Split(m[1], ",") {
		f = strings.TrimSpace(f)
		canon := ""
		for _, k := range known {
			if strings.EqualFold(k, f) {
				canon = k
			}
		}
		if canon == "" {
			sfError(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf(
				"No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", f, object))
			return
		}
		selected = append(selected, canon)
	}
	var keep func(map[string]any) bool
	if m[3] != "" {
		if keep = wheres[strings.Join(strings.Fields(m[3]), " ")]; keep == nil {
			sfError(w, http.StatusBadRequest, "MALFORMED_QUERY", "the fake does not understand the WHERE clause: "+m[3])
			return
		}
	}
	var records []map[string]any
	for _, rec := range s.records(object, base) {
		if keep == nil || keep(rec) {
			records = append(records, project(rec, selected))
		}
	}
	s.page(w, locator{records: records}, base)
}

func (s *Server) more(w http.ResponseWriter, id, base string) {
	loc, ok := s.locators[id]
	if !ok {
		sfError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	delete(s.locators, id)
	s.page(w, loc, base)
}

func (s *Server) page(w http.ResponseWriter, loc locator, base string) {
	end := min(loc.offset+s.batchSize, len(loc.records))
	batch := loc.records[loc.offset:end]
	if batch == nil {
		batch = []map[string]any{}
	}
	out := map[string]any{"totalSize": len(loc.records), "done": end == len(loc.records), "records": batch}
	if end < len(loc.records) {
		id := fmt.Sprintf("01g%s-%d", vendorfake.RandomHex(6), end)
		s.locators[id] = locator{records: loc.records, offset: end}
		out["nextRecordsUrl"] = base + "/query/" + id
	}
	writeJSON(w, http.StatusOK, out)
}

func sfTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000-0700")
}

// records renders every stored object of a type with all its fields.
func (s *Server) records(object, base string) []map[string]any {
	attrs := func(typ, id string) map[string]any {
		return map[string]any{"type": typ, "url": base + "/sobjects/" + typ + "/" + id}
	}
	var out []map[string]any
	switch object {
	case "User":
		for _, u := range s.users {
			var profile any
			if u.ProfileName != "" {
				profile = map[string]any{"attributes": attrs("Profile", "00e5e000000PROFAAA"), "Name": u.ProfileName}
			}
			out = append(out, map[string]any{"attributes": attrs("User", u.ID), "Id": u.ID, "Username": u.Username,
				"Email": u.Email, "Name": u.Name, "IsActive": u.IsActive, "LastLoginDate": sfTime(u.LastLoginDate),
				"Profile": profile, "UserType": u.UserType, "LastPasswordChangeDate": sfTime(u.LastPasswordChangeDate),
				"CreatedDate": sfTime(u.CreatedDate)})
		}
	case "PermissionSetAssignment":
		n := 0
		add := func(userID string, ps PermissionSet) {
			n++
			out = append(out, map[string]any{"attributes": attrs("PermissionSetAssignment", fmt.Sprintf("0Pa%015d", n)),
				"Id": fmt.Sprintf("0Pa%015d", n), "AssigneeId": userID, "PermissionSetId": ps.ID,
				"PermissionSet": map[string]any{"attributes": attrs("PermissionSet", ps.ID), "Name": ps.Name, "Label": ps.Label,
					"IsOwnedByProfile": ps.OwnerProfile != "", "PermissionsModifyAllData": ps.ModifyAllData,
					"PermissionsViewAllData": ps.ViewAllData}})
		}
		for _, ps := range s.permSets {
			if ps.OwnerProfile == "" {
				continue
			}
			for _, u := range s.users {
				if u.ProfileName == ps.OwnerProfile {
					add(u.ID, ps)
				}
			}
		}
		for _, a := range s.assignments {
			for _, ps := range s.permSets {
				if ps.ID == a[1] {
					add(a[0], ps)
				}
			}
		}
	case "Organization":
		out = append(out, map[string]any{"attributes": attrs("Organization", OrgID), "Id": OrgID, "Name": "Acme",
			"InstanceName": "FAKE1", "IsSandbox": false})
	}
	return out
}

// project keeps the selected fields; a relationship keeps its attributes and
// the selected sub-fields, or stays null when the related record is missing.
func project(rec map[string]any, selected []string) map[string]any {
	out := map[string]any{"attributes": rec["attributes"]}
	for _, f := range selected {
		rel, sub, nested := strings.Cut(f, ".")
		if !nested {
			out[f] = rec[f]
			continue
		}
		src, _ := rec[rel].(map[string]any)
		if src == nil {
			out[rel] = nil
			continue
		}
		dst, _ := out[rel].(map[string]any)
		if dst == nil {
			dst = map[string]any{"attributes": src["attributes"]}
			out[rel] = dst
		}
		dst[sub] = src[sub]
	}
	return out
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}
