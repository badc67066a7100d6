package source

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"sync"
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
// belong to no one.
func inventory(g *graph.Graph, now time.Time) ([]*store.IdentityPerson, []*store.IdentityAccount) {
	people := make([]*store.IdentityPerson, 0, len(g.People))
	personIDs := make(map[*graph.Person]string, len(g.People))
	for _, p := range g.People {
		if len(p.Primary) == 0 {
			continue
		}
		t := p.Primary[0].Tenant
		key := detect.UserKey(t.Product, t.Name, p.Key)
		row := &store.IdentityPerson{ID: inventoryID("idn_", key), EntityKey: key, Email: p.Email, DisplayName: p.DisplayName,
			Status: string(p.PrimaryStatus()), Accounts: len(p.Accounts), ScannedAt: now}
		for _, a := range p.Accounts {
			if a.LastLogin != nil && a.LastLogin.After(row.LastLogin) {
				row.LastLogin = *a.LastLogin
			}
		}
		personIDs[p] = row.ID
		people = append(people, row)
	}
	// An account's row is its own (an id hashed, three lists encoded), so
	// the accounts are shared among the processors: a rescan does this for
	// every account whatever changed.
	accounts := make([]*store.IdentityAccount, len(g.Accounts))
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), len(g.Accounts)/1000))
	per := (len(g.Accounts) + workers - 1) / workers
	for start := 0; start < len(g.Accounts); start += per {
		wg.Go(func() {
			for i := start; i < min(start+per, len(g.Accounts)); i++ {
				accounts[i] = accountRow(g.Accounts[i], personIDs, now)
			}
		})
	}
	wg.Wait()
	return people, accounts
}

// accountRow is the inventory's row of account a; personIDs gives the ids
// of the people's rows.
func accountRow(a *graph.Account, personIDs map[*graph.Person]string, now time.Time) *store.IdentityAccount {
	t := a.Tenant
	key := detect.AccountKey(t.Product, t.Name, a.IDInService)
	kind, priv := a.Kind, a.Privilege
	if kind == "" {
		kind = graph.KindHuman
	}
	if priv == "" {
		priv = graph.PrivilegeNone
	}
	row := &store.IdentityAccount{ID: inventoryID("acc_", key), EntityKey: key, Source: t.Source, Product: string(t.Product),
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
	return row
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
