package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// inventoryOf makes n people with two accounts each, plus one orphan
// account, enough rows for several statements of every kind.
func inventoryOf(n int) ([]*store.IdentityPerson, []*store.IdentityAccount) {
	var people []*store.IdentityPerson
	var accounts []*store.IdentityAccount
	login := time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)
	for i := range n {
		p := &store.IdentityPerson{ID: fmt.Sprintf("idn_%05d", i), EntityKey: fmt.Sprintf("user:%d", i),
			Email: fmt.Sprintf("u%d@example.com", i), DisplayName: fmt.Sprintf("User %05d", i), Status: "active", Accounts: 2,
			LastLogin: login}
		people = append(people, p)
		for _, src := range []string{"okta", "entra"} {
			accounts = append(accounts, &store.IdentityAccount{ID: fmt.Sprintf("acc_%s_%05d", src, i), PersonID: p.ID,
				EntityKey: fmt.Sprintf("%s:%d", src, i), Source: src, Product: src, Tenant: "t", IDInService: fmt.Sprint(i),
				Login: p.Email, Email: p.Email, DisplayName: p.DisplayName, Status: "active", Kind: "human", Privilege: "none",
				PrivilegeReasons: "[]", MFA: "enrolled", MFAFactors: `["push"]`, Credentials: "[]", LastLogin: login})
		}
	}
	accounts = append(accounts, &store.IdentityAccount{ID: "acc_orphan", EntityKey: "aws:root", Source: "aws", Product: "AWS",
		Tenant: "t", IDInService: "root", Status: "active", Kind: "service", Privilege: "admin", PrivilegeReasons: `["root"]`,
		MFAFactors: "[]", Credentials: "[]", Root: true})
	return people, accounts
}

func syncIdentities(t *testing.T, st *store.Store, people []*store.IdentityPerson, accounts []*store.IdentityAccount, at time.Time) store.IdentitySync {
	t.Helper()
	ctx := context.Background()
	var sum store.IdentitySync
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		sum, err = tx.SyncIdentities(ctx, store.IdentityRowsOf(people), store.IdentityRowsOf(accounts), at)
		return err
	}); err != nil {
		t.Fatalf("SyncIdentities: %v", err)
	}
	return sum
}

// storedAccounts returns every stored account by id.
func storedAccounts(t *testing.T, st *store.Store) map[string]*store.IdentityAccount {
	t.Helper()
	out := map[string]*store.IdentityAccount{}
	for offset := 0; ; offset += 500 {
		page, _, err := st.IdentityAccounts(context.Background(), store.IdentityFilter{Limit: 500, Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			out[a.ID] = a
		}
		if len(page) < 500 {
			return out
		}
	}
}

func TestSyncIdentitiesWritesOnlyTheDifference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t1 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		people, accounts := inventoryOf(700)
		if got := syncIdentities(t, st, people, accounts, t1); got != (store.IdentitySync{Written: 700 + 1401}) {
			t.Fatalf("first sync = %+v, want every row written", got)
		}

		t2 := t1.Add(time.Hour)
		people, accounts = inventoryOf(700)
		if got := syncIdentities(t, st, people, accounts, t2); got != (store.IdentitySync{}) {
			t.Fatalf("sync of the same inventory = %+v, want nothing written", got)
		}
		p, err := st.IdentityPerson(ctx, "idn_00003")
		if err != nil {
			t.Fatal(err)
		}
		if !p.ScannedAt.Equal(t2) || p.DisplayName != "User 00003" || !p.LastLogin.Equal(people[3].LastLogin) {
			t.Fatalf("person after an unchanged sync = %+v, want scanned at %v", p, t2)
		}

		// One account changes, one person leaves (with their accounts), one
		// person's okta account moves to no one, and a new person arrives.
		t3 := t2.Add(time.Hour)
		people, accounts = inventoryOf(701)
		accounts[20].Status = "suspended"
		accounts[20].LastLogin = time.Time{}
		gone := people[5].ID
		people = append(people[:5], people[6:]...)
		var kept []*store.IdentityAccount
		for _, a := range accounts {
			switch {
			case a.PersonID == gone:
				continue
			case a.ID == "acc_okta_00007":
				a.PersonID = ""
			}
			kept = append(kept, a)
		}
		accounts = kept
		// Written: the changed account, the orphaned one, the new person and
		// two accounts; deleted: the person who left and two accounts.
		if got := syncIdentities(t, st, people, accounts, t3); got != (store.IdentitySync{Written: 5, Deleted: 3}) {
			t.Fatalf("sync of a changed inventory = %+v, want 5 written and 3 deleted", got)
		}
		stored := storedAccounts(t, st)
		if len(stored) != len(accounts) {
			t.Fatalf("%d accounts stored, want %d", len(stored), len(accounts))
		}
		for _, want := range accounts {
			got := stored[want.ID]
			if got == nil {
				t.Fatalf("account %s is missing", want.ID)
			}
			if got.PersonID != want.PersonID || got.Status != want.Status || !got.LastLogin.Equal(want.LastLogin) ||
				got.Root != want.Root || got.MFAFactors != want.MFAFactors || !got.ScannedAt.Equal(t3) {
				t.Fatalf("account %s = %+v, want %+v scanned at %v", want.ID, got, want, t3)
			}
		}
		if _, err := st.IdentityPerson(ctx, gone); err == nil {
			t.Fatalf("person %s is still stored", gone)
		}
		// No constraint checks an account's person (the sync's order keeps
		// it stored); none may name a person who is not.
		var dangling int
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM vigil_identity_account a WHERE a.person_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM vigil_identity_person p WHERE p.id = a.person_id)`).Scan(&dangling); err != nil || dangling != 0 {
			t.Fatalf("%d accounts name a person not stored (%v)", dangling, err)
		}
		_, total, err := st.IdentityPeople(ctx, store.IdentityFilter{})
		if err != nil || total != 700 {
			t.Fatalf("IdentityPeople total = %d, %v; want 700", total, err)
		}
	})
}

// inventoryIndexes returns the definitions of the identity tables' indexes.
func inventoryIndexes(t *testing.T, st *store.Store) []string {
	t.Helper()
	q := `SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index'
		AND tbl_name IN ('vigil_identity_person', 'vigil_identity_account') AND sql IS NOT NULL ORDER BY name`
	if st.Dialect() == store.Postgres {
		q = `SELECT indexname || ': ' || indexdef FROM pg_indexes
			WHERE schemaname = current_schema() AND tablename IN ('vigil_identity_person', 'vigil_identity_account') ORDER BY indexname`
	}
	rows, err := st.DB().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 3 {
		t.Fatalf("the identity tables have %d indexes, want at least their name, person and filter indexes: %q", len(out), out)
	}
	return out
}

// A first sync into an empty inventory large enough to be loaded without
// its indexes leaves every row stored and every index as the migrations
// made it, and one that fails leaves nothing, the indexes included.
func TestSyncIdentitiesLoadsAnEmptyInventory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		before := inventoryIndexes(t, st)
		people, accounts := inventoryOf(5200) // 5,200 people and 10,401 accounts
		accounts[17].Privilege, accounts[17].MFA = "admin", "none"

		failed := errors.New("the scan failed after the inventory")
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.SyncIdentities(ctx, store.IdentityRowsOf(people), store.IdentityRowsOf(accounts), time.Now()); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("failed sync: %v, want its own error", err)
		}
		if got := inventoryIndexes(t, st); !slices.Equal(got, before) {
			t.Fatalf("indexes after a failed load = %q, want %q", got, before)
		}
		if _, total, err := st.IdentityPeople(ctx, store.IdentityFilter{}); err != nil || total != 0 {
			t.Fatalf("people after a failed load = %d, %v; want none", total, err)
		}

		t1 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		if got := syncIdentities(t, st, people, accounts, t1); got != (store.IdentitySync{Written: 5200 + 10401}) {
			t.Fatalf("first sync = %+v, want every row written", got)
		}
		if got := inventoryIndexes(t, st); !slices.Equal(got, before) {
			t.Fatalf("indexes after the load = %q, want %q", got, before)
		}
		if n := len(storedAccounts(t, st)); n != len(accounts) {
			t.Fatalf("%d accounts stored, want %d", n, len(accounts))
		}
		yes := true
		page, total, err := st.IdentityPeople(ctx, store.IdentityFilter{Privileged: &yes, MFA: "none"})
		if err != nil || total != 1 || len(page) != 1 || page[0].ID != accounts[17].PersonID {
			t.Fatalf("privileged people without MFA = %d %+v, %v; want %s", total, page, err, accounts[17].PersonID)
		}
		if got := syncIdentities(t, st, people, accounts, t1.Add(time.Hour)); got != (store.IdentitySync{}) {
			t.Fatalf("sync of the same inventory = %+v, want nothing written", got)
		}
	})
}
