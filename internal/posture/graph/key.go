package graph

import "strings"

// NormalizeEmail returns the join key for an email address or email-shaped
// login: surrounding space trimmed, lower-cased, and a "+tag" suffix removed
// from the local part ("Ali.Lesch+gw@Example.com" becomes
// "ali.lesch@example.com"), because Google Workspace and Microsoft 365
// deliver plus-addressed mail to the same mailbox, so the tag does not name
// another person. Dots are kept: they are significant outside Gmail.
// It returns "" for anything that is not of the form local@domain.
func NormalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return ""
	}
	local, domain := s[:at], s[at+1:]
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[:plus]
	}
	if local == "" {
		return ""
	}
	return local + "@" + domain
}

// joinKeys returns the account's normalized addresses, email first, then an
// email-shaped login when it differs.
func joinKeys(a *Account) (first, second string) {
	first = NormalizeEmail(a.Email)
	second = NormalizeEmail(a.Login)
	if first == "" {
		return second, ""
	}
	if second == first {
		second = ""
	}
	return first, second
}

// localName returns the lower-cased login of an account that has no address
// at all (AWS IAM user names are often "first.last"), for the local-part
// fallback; "" when the account has an address or no login.
func localName(a *Account) string {
	if strings.Contains(a.Email, "@") || strings.Contains(a.Login, "@") {
		return ""
	}
	s := strings.ToLower(strings.TrimSpace(a.Login))
	if plus := strings.IndexByte(s, '+'); plus >= 0 {
		s = s[:plus]
	}
	return s
}
