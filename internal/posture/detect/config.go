package detect

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the detection thresholds. The zero value of every field
// means the default of the detection catalog, so Config{} is the catalog as
// documented.
type Config struct {
	// UnusedDays is how long a human account may go without an interactive
	// login before it is unused. Default 90.
	UnusedDays int
	// UnusedServiceDays is how long a service account may go without a
	// login or a credential use. Default 90.
	UnusedServiceDays int
	// PasswordMaxAgeDays applies to accounts and service accounts without
	// admin privilege. Default 365.
	PasswordMaxAgeDays int
	// AdminPasswordMaxAgeDays applies to admins and global admins, human or
	// service. Default 180.
	AdminPasswordMaxAgeDays int
	// TokenMaxAgeDays is the age after which an API token or client secret
	// is unrotated. Default 90.
	TokenMaxAgeDays int
	// AccessKeyMaxAgeDays is the age after which an AWS access key is
	// unrotated. Default 90.
	AccessKeyMaxAgeDays int
	// AccessKeyUnusedDays is how long an AWS access key may go unused.
	// Default 90.
	AccessKeyUnusedDays int
	// MaxGlobalAdmins is the most global admins a tenant may have before
	// it has too many. Default 5.
	MaxGlobalAdmins int
	// MaxAdmins is the most admins (global admins included) a tenant may
	// have. Default 25.
	MaxAdmins int
}

// The catalog's default thresholds.
const (
	DefaultUnusedDays              = 90
	DefaultUnusedServiceDays       = 90
	DefaultPasswordMaxAgeDays      = 365
	DefaultAdminPasswordMaxAgeDays = 180
	DefaultTokenMaxAgeDays         = 90
	DefaultAccessKeyMaxAgeDays     = 90
	DefaultAccessKeyUnusedDays     = 90
	DefaultMaxGlobalAdmins         = 5
	DefaultMaxAdmins               = 25
)

// WithDefaults returns c with every zero or negative field set to its
// default.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.UnusedDays, DefaultUnusedDays)
	def(&c.UnusedServiceDays, DefaultUnusedServiceDays)
	def(&c.PasswordMaxAgeDays, DefaultPasswordMaxAgeDays)
	def(&c.AdminPasswordMaxAgeDays, DefaultAdminPasswordMaxAgeDays)
	def(&c.TokenMaxAgeDays, DefaultTokenMaxAgeDays)
	def(&c.AccessKeyMaxAgeDays, DefaultAccessKeyMaxAgeDays)
	def(&c.AccessKeyUnusedDays, DefaultAccessKeyUnusedDays)
	def(&c.MaxGlobalAdmins, DefaultMaxGlobalAdmins)
	def(&c.MaxAdmins, DefaultMaxAdmins)
	return c
}

// Validate reports a negative threshold, which is almost certainly a
// configuration mistake; Run itself treats it as the default.
func (c Config) Validate() error {
	var errs []error
	for name, v := range map[string]int{
		"unused days": c.UnusedDays, "unused service days": c.UnusedServiceDays,
		"password max age days": c.PasswordMaxAgeDays, "admin password max age days": c.AdminPasswordMaxAgeDays,
		"token max age days": c.TokenMaxAgeDays, "access key max age days": c.AccessKeyMaxAgeDays,
		"access key unused days": c.AccessKeyUnusedDays, "max global admins": c.MaxGlobalAdmins, "max admins": c.MaxAdmins,
	} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("the %s threshold is negative (%d); use 0 for the default or a positive number", name, v))
		}
	}
	return errors.Join(errs...)
}

const day = 24 * time.Hour

// olderThan reports whether t lies strictly more than days before now: an
// account last seen exactly 90 days ago is not yet "unused for more than 90
// days"; one second more and it is. A zero t is unknown and never old.
func olderThan(t time.Time, now time.Time, days int) bool {
	if t.IsZero() {
		return false
	}
	return now.Sub(t) > time.Duration(days)*day
}
