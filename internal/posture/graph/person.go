package graph

// Person is someone the primary identity provider knows, with every account
// joined to them across sources.
type Person struct {
	// Key is the join key: the normalized email (see [NormalizeEmail]) of
	// the first primary account, or "id:" followed by that account's id when
	// it has no address.
	Key         string
	Email       string
	DisplayName string
	// Primary are the person's accounts in the primary source; usually one,
	// more when the source holds duplicates with the same email.
	Primary []*Account
	// Accounts are all the person's accounts, primary ones first.
	Accounts []*Account
}

// Offboarded reports whether every primary account of the person is
// suspended or deprovisioned: the identity provider no longer lets them in.
func (p *Person) Offboarded() bool {
	if len(p.Primary) == 0 {
		return false
	}
	for _, a := range p.Primary {
		if a.Status != StatusSuspended && a.Status != StatusDeprovisioned {
			return false
		}
	}
	return true
}

// PrimaryStatus returns the most alive status among the primary accounts:
// active, then staged, then suspended, then deprovisioned.
func (p *Person) PrimaryStatus() Status {
	best := StatusDeprovisioned
	for _, a := range p.Primary {
		if liveness(a.Status) > liveness(best) {
			best = a.Status
		}
	}
	return best
}

func liveness(s Status) int {
	switch s {
	case StatusActive:
		return 3
	case StatusStaged:
		return 2
	case StatusSuspended:
		return 1
	}
	return 0
}

// OtherActive returns the person's active accounts outside the primary
// source.
func (p *Person) OtherActive() []*Account {
	var out []*Account
	for _, a := range p.Accounts {
		if a.Active() && (a.Tenant == nil || !a.Tenant.Primary) {
			out = append(out, a)
		}
	}
	return out
}
