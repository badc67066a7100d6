package source

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/store"
)

// inventoryID derives an identity's id from the entity key its issues
// name it by, so that a person or an account keeps its id, and the links
// to it keep working, from one scan to the next.
func inventoryID(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return prefix + hex.EncodeToString(sum[:12])
}

// inventory turns the identity graph into the rows of the identity
// inventory: every person with every account, and the accounts that
// belong to no one. The rows are made from the graph as they are compared
// and written (see store.IdentityRows), so the graph stays until the
// inventory is stored.
func inventory(g *graph.Graph, now time.Time) (store.IdentityRows[store.IdentityPerson], store.IdentityRows[store.IdentityAccount]) {
	people := make([]*graph.Person, 0, len(g.People))
	personIDs := make(map[*graph.Person]string, len(g.People))
	for _, p := range g.People {
		if len(p.Primary) == 0 {
			continue
		}
		personIDs[p] = inventoryID("idn_", personKey(p))
		people = append(people, p)
	}
	return store.IdentityRows[store.IdentityPerson]{N: len(people), Fill: func(i int, row *store.IdentityPerson) {
			personRow(people[i], personIDs[people[i]], now, row)
		}}, store.IdentityRows[store.IdentityAccount]{N: len(g.Accounts), Fill: func(i int, row *store.IdentityAccount) {
			accountRow(g.Accounts[i], personIDs, now, row)
		}}
}

// personKey is the entity key of person p, who has a primary account.
func personKey(p *graph.Person) string {
	t := p.Primary[0].Tenant
	return detect.UserKey(t.Product, t.Name, p.Key)
}

// personRow sets row to the inventory's row of person p, whose row has
// the id id.
func personRow(p *graph.Person, id string, now time.Time, row *store.IdentityPerson) {
	*row = store.IdentityPerson{ID: id, EntityKey: personKey(p), Email: p.Email, DisplayName: p.DisplayName,
		Status: string(p.PrimaryStatus()), Accounts: len(p.Accounts), ScannedAt: now}
	for _, a := range p.Accounts {
		if a.LastLogin != nil && a.LastLogin.After(row.LastLogin) {
			row.LastLogin = *a.LastLogin
		}
	}
}

// accountRow sets row to the inventory's row of account a; personIDs
// gives the ids of the people's rows.
func accountRow(a *graph.Account, personIDs map[*graph.Person]string, now time.Time, row *store.IdentityAccount) {
	t := a.Tenant
	key := detect.AccountKey(t.Product, t.Name, a.IDInService)
	kind, priv := a.Kind, a.Privilege
	if kind == "" {
		kind = graph.KindHuman
	}
	if priv == "" {
		priv = graph.PrivilegeNone
	}
	*row = store.IdentityAccount{ID: inventoryID("acc_", key), EntityKey: key, Source: t.Source, Product: string(t.Product),
		Tenant: t.Name, IDInService: a.IDInService, Login: a.Login, Email: a.Email, DisplayName: a.DisplayName,
		Status: string(a.Status), Kind: string(kind), Privilege: string(priv), PrivilegeReasons: jsonList(a.PrivilegeReasons),
		MFA: string(a.MFA.State), MFAFactors: jsonList(a.MFA.Factors), Root: a.Root, CreatedAt: a.Created,
		Credentials: jsonList(a.Credentials), ScannedAt: now}
	if a.Person != nil {
		row.PersonID = personIDs[a.Person]
	}
	if a.LastLogin != nil {
		row.LastLogin = *a.LastLogin
	}
	if a.PasswordChanged != nil {
		row.PasswordChanged = *a.PasswordChanged
	}
}

// jsonList encodes a list for a JSON column; nil encodes as [].
func jsonList[T any](v []T) string {
	if v == nil {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "[]"
	}
	return string(b)
}
