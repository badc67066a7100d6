package detect

import "fmt"

// Category groups titles as Okta ISPM does.
type Category string

// The catalog's categories.
const (
	CategoryMFA               Category = "MFA"
	CategoryLeastPrivilege    Category = "Least Privilege"
	CategoryCredentialHygiene Category = "Credential Hygiene" //nolint:gosec // G101: a category name
	CategoryAccountLifecycle  Category = "Account Lifecycle"
)

// Severity ranks how urgent an issue is.
type Severity string

// Severities, from least to most urgent.
const (
	SeverityLow      Severity = "Low"
	SeverityMedium   Severity = "Medium"
	SeverityHigh     Severity = "High"
	SeverityCritical Severity = "Critical"
)

// The titles of the catalog. They are exact strings: Okta Workflows
// templates and Vigil's hooks route on them.
const (
	TitleNoMFAAccount                  = "No MFA - Account"
	TitleNoMFAAdmin                    = "No MFA - Admin Account"
	TitleNoMFAGlobalAdmin              = "No MFA - Global Admin Account"
	TitlePendingMFAAccount             = "Pending MFA - Account"
	TitlePendingMFAAdmin               = "Pending MFA - Admin Account"
	TitlePendingMFAGlobalAdmin         = "Pending MFA - Global Admin Account"
	TitleNoMFAEnforcedGlobalAdmin      = "No MFA Enforced - Global Admin Account"
	TitleWeakMFAAdmin                  = "Weak MFA - Admin Account"
	TitleRootWithoutMFA                = "Root Account without MFA"
	TitleUnusedAccount                 = "Unused Account"
	TitleUnusedAdmin                   = "Unused Admin Account"
	TitleUnusedGlobalAdmin             = "Unused Global Admin Account"
	TitleUnusedService                 = "Unused Service Account"
	TitleUnusedGlobalAdminService      = "Unused Global Admin Service Account"
	TitleExcessiveGlobalAdmins         = "Excessive Global Admins"
	TitleExcessiveAdmins               = "Excessive Admins"
	TitleHighlyPrivilegedAPIToken      = "Highly Privileged API Token"
	TitleRootAccessKeyPresent          = "Root Access Key Present"
	TitleOldPasswordAccount            = "Old Password - Account"
	TitleOldPasswordAdmin              = "Old Password - Admin Account"
	TitleOldPasswordGlobalAdmin        = "Old Password - Global Admin Account"
	TitleOldPasswordService            = "Old Password - Service Account"
	TitleOldPasswordAdminService       = "Old Password - Admin Service Account"
	TitleOldPasswordGlobalAdminService = "Old Password - Global Admin Service Account"
	TitleUnrotatedAPIToken             = "Unrotated API Token" //nolint:gosec // G101: an issue title
	TitleUnrotatedAccessKey            = "Unrotated Access Key"
	TitleUnusedAccessKey               = "Unused Access Key"
	TitlePartiallyOffboardedUser       = "Partially Offboarded User"
	TitleOrphanedAccount               = "Orphaned Account"
)

// Detection describes one title of the catalog: what it means and what to
// do about it. The console's title checklist and the hooks' automation
// rules are built from it.
type Detection struct {
	Title    string
	Category Category
	Severity Severity
	// Entity is the kind of entity the issue is raised on.
	Entity EntityType
	// Description says when the detection fires, with the thresholds in
	// force.
	Description string
	// FullDescription is the fullDescription.
	FullDescription      string
	SuggestedRemediation string
	RiskAndImpact        string
}

// Catalog lists every detection with the default thresholds, in the order
// of the design's catalog table.
func Catalog() []Detection { return CatalogFor(Config{}) }

// CatalogFor lists every detection with the thresholds of c.
func CatalogFor(c Config) []Detection {
	c = c.WithDefaults()
	pw, apw := c.PasswordMaxAgeDays, c.AdminPasswordMaxAgeDays
	return []Detection{
		{TitleNoMFAAccount, CategoryMFA, SeverityMedium, EntityAccount,
			"An active human account has no active MFA factor.",
			"Accounts that sign in with a password alone: no multi-factor authentication factor is enrolled.",
			"Have the user enroll a strong factor at the next sign-in (Okta Verify push with number challenge, FIDO2/WebAuthn, or an authenticator app), for example by adding them to a group covered by an MFA enrollment policy. Then require MFA in the sign-on or authentication policy for the apps they use.",
			"A password is the only thing between an attacker and this account. Phishing, password spraying and credential stuffing with leaked passwords all succeed against it, and the attacker then acts as the user in every application the account reaches."},
		{TitleNoMFAAdmin, CategoryMFA, SeverityHigh, EntityAccount,
			"An active human admin account has no active MFA factor.",
			"Admin Accounts that sign in with a password alone: no multi-factor authentication factor is enrolled.",
			"Enroll a phishing-resistant factor (FIDO2/WebAuthn security key or platform authenticator, or Okta Verify with number challenge) for this admin now, and require MFA for every admin console through policy. Remove the admin role until enrollment is done if the account is not needed urgently.",
			"An attacker who phishes or guesses this admin's password gets administrative control without any second check: they can change users, groups, policies or applications within the admin's role, grant themselves more access, and hide their tracks."},
		{TitleNoMFAGlobalAdmin, CategoryMFA, SeverityCritical, EntityAccount,
			"An active human global admin account has no active MFA factor.",
			"Global Admin Accounts that sign in with a password alone: no multi-factor authentication factor is enrolled.",
			"Enroll a phishing-resistant factor (FIDO2/WebAuthn security key) for this global admin immediately and require it for all administrative access. If the owner cannot enroll today, suspend the role assignment until they do, and review the tenant's recent admin activity for changes made by this account.",
			"Whoever holds this password holds the whole tenant: every user, policy, application and log. One phished or reused password is enough for a full takeover, including disabling MFA for everyone else and creating back doors."},
		{TitlePendingMFAAccount, CategoryMFA, SeverityLow, EntityAccount,
			"An active human account has enrolled factors, but none is active yet (activation pending).",
			"Accounts whose MFA enrollment was started but never completed: no factor is active.",
			"Ask the user to finish activating the pending factor, or reset the factor and have them enroll again. Set an enrollment policy that requires completing activation at the next sign-in.",
			"Until a factor is active the account signs in with a password alone. An attacker who learns the password could also complete the pending enrollment with their own device and lock the real user out of MFA."},
		{TitlePendingMFAAdmin, CategoryMFA, SeverityMedium, EntityAccount,
			"An active human admin account has enrolled factors, but none is active yet.",
			"Admin Accounts whose MFA enrollment was started but never completed: no factor is active.",
			"Have the admin complete activation of a phishing-resistant factor now, or reset the pending factor and enroll again; require MFA for admin console access through policy.",
			"The admin signs in with a password alone while the factor waits for activation, and an attacker with the password could activate their own device as this admin's second factor."},
		{TitlePendingMFAGlobalAdmin, CategoryMFA, SeverityHigh, EntityAccount,
			"An active human global admin account has enrolled factors, but none is active yet.",
			"Global Admin Accounts whose MFA enrollment was started but never completed: no factor is active.",
			"Have the global admin complete activation of a FIDO2/WebAuthn factor now, or reset the pending factor and enroll again under supervision; require phishing-resistant MFA for all administrative access.",
			"A password alone protects full control of the tenant, and an attacker with that password could finish the pending enrollment with their own authenticator and keep persistent access."},
		{TitleNoMFAEnforcedGlobalAdmin, CategoryMFA, SeverityHigh, EntityAccount,
			"No policy requires MFA when this global admin signs in (Okta sign-on and authentication policies, Google 2-Step Verification enforcement).",
			"Global Admin Accounts not required by any policy to use multi-factor authentication.",
			"Add a policy rule that requires MFA, ideally phishing-resistant, for the global admins: in Okta, a rule in the global session policy and the Okta Admin Console authentication policy that applies to the super administrators' group; in Google Workspace, enforce 2-Step Verification for the admin's organizational unit or group.",
			"Enrolling a factor is not the same as being required to use it: a policy that still allows password-only sign-in lets an attacker who has the password skip the second factor and take over the tenant."},
		{TitleWeakMFAAdmin, CategoryMFA, SeverityMedium, EntityAccount,
			"An active human admin or global admin account whose only active factors are SMS, voice call or email.",
			"Admin Accounts protected only by weak factors (SMS, voice call or email).",
			"Enroll a phishing-resistant factor (FIDO2/WebAuthn security key or platform authenticator, or Okta Verify with number challenge), then remove the SMS, voice and email factors and require phishing-resistant authenticators for admin access.",
			"SMS and voice codes can be stolen through SIM swapping and telephone network attacks, and email codes are only as safe as the mailbox. All of them are relayed in real time by phishing kits, so they do not stop a determined attacker from reaching an admin session."},
		{TitleRootWithoutMFA, CategoryMFA, SeverityCritical, EntityAccount,
			"The AWS account root user has no active MFA device.",
			"AWS root user without multi-factor authentication.",
			"Sign in as the root user and assign an MFA device, preferably a FIDO2 security key, then store the root credentials and the device securely and use the root user only for the few tasks that require it. In AWS Organizations, consider centralized root access management to remove root credentials from member accounts.",
			"The root user has unrestricted access to every resource and to billing in the AWS account and cannot be limited by IAM policies. Its password alone lets an attacker delete everything, run up costs or lock the owners out."},

		{TitleUnusedAccount, CategoryLeastPrivilege, SeverityLow, EntityAccount,
			fmt.Sprintf("An active human account without an interactive login for more than %d days (or never, created more than %[1]d days ago).", c.UnusedDays),
			fmt.Sprintf("Accounts not logged in interactively for %d days.", c.UnusedDays+1),
			fmt.Sprintf("Confirm with the user or their manager that the account is still needed; if it is not, suspend or deactivate it and remove its application access. Consider an automation that suspends accounts after %d days without a sign-in.", c.UnusedDays),
			"Dormant accounts are rarely watched, so their compromise goes unnoticed, and they often belong to people who changed roles or left. They enlarge the attack surface without any business value."},
		{TitleUnusedAdmin, CategoryLeastPrivilege, SeverityHigh, EntityAccount,
			fmt.Sprintf("An active human admin account without an interactive login for more than %d days.", c.UnusedDays),
			fmt.Sprintf("Admin Accounts not logged in interactively for %d days.", c.UnusedDays+1),
			"Remove the admin role if the person no longer administers the tenant, and suspend or deactivate the account if it is not needed at all. Admin rights should be granted when needed, not kept just in case.",
			"An unused admin account holds standing privileges that nobody watches: an attacker who takes it over can change users, policies and applications, and the owner will not notice unusual activity."},
		{TitleUnusedGlobalAdmin, CategoryLeastPrivilege, SeverityCritical, EntityAccount,
			fmt.Sprintf("An active human global admin account without an interactive login for more than %d days.", c.UnusedDays),
			fmt.Sprintf("Global Admin Accounts not logged in interactively for %d days.", c.UnusedDays+1),
			"Remove the global admin role from this account, or suspend it if it is a forgotten account. Keep global admins to a small, named set of people who use them, plus documented break-glass accounts that are monitored.",
			"A forgotten global admin is a standing key to the whole tenant. If it is taken over, nobody who uses it daily will notice, and the attacker can change every policy, user and application."},
		{TitleUnusedService, CategoryLeastPrivilege, SeverityMedium, EntityAccount,
			fmt.Sprintf("An active service account with no login and no credential use for more than %d days.", c.UnusedServiceDays),
			fmt.Sprintf("Service Accounts not used for %d days.", c.UnusedServiceDays+1),
			"Find the service account's owner and the integration it served. If the integration is retired, deactivate the account and revoke its tokens, secrets and keys; if it is still needed, document its owner and purpose.",
			"Service accounts are not protected by MFA and are often over-privileged. An unused one is an unmonitored credential whose misuse would not disturb any running integration, so nobody would notice."},
		{TitleUnusedGlobalAdminService, CategoryLeastPrivilege, SeverityCritical, EntityAccount,
			fmt.Sprintf("An active global admin service account with no login and no credential use for more than %d days.", c.UnusedServiceDays),
			fmt.Sprintf("Global Admin Service Accounts not used for %d days.", c.UnusedServiceDays+1),
			"Remove the global admin role and deactivate the account, revoking its tokens, secrets and keys. If an integration still needs it, give it a narrowly scoped role instead.",
			"A global admin that is a machine has no MFA and no human watching it; unused, it is pure risk: its leaked secret is a silent, full takeover of the tenant."},
		{TitleExcessiveGlobalAdmins, CategoryLeastPrivilege, SeverityMedium, EntityTenant,
			fmt.Sprintf("A tenant has more than %d active global admins.", c.MaxGlobalAdmins),
			fmt.Sprintf("Tenants with more than %d global admins.", c.MaxGlobalAdmins),
			fmt.Sprintf("Review who holds the global admin role and keep at most %d, including monitored break-glass accounts. Move everyone else to scoped admin roles that grant only what their work needs.", c.MaxGlobalAdmins),
			"Every global admin can change any policy, user or application. Each extra one is another account whose takeover means full tenant compromise, and another person who can make an unreviewed change."},
		{TitleExcessiveAdmins, CategoryLeastPrivilege, SeverityLow, EntityTenant,
			fmt.Sprintf("A tenant has more than %d active admins (global admins included).", c.MaxAdmins),
			fmt.Sprintf("Tenants with more than %d admins.", c.MaxAdmins),
			"Review the admin role assignments, remove the ones that are no longer needed, and prefer custom roles scoped to specific groups or applications, granted through groups that are reviewed regularly.",
			"A large admin population widens the attack surface and makes it hard to notice misuse; admin roles granted long ago tend to stay after people change jobs."},
		{TitleHighlyPrivilegedAPIToken, CategoryLeastPrivilege, SeverityHigh, EntityAccount,
			"An active API token is owned by a global admin (an Okta API token inherits the super admin's permissions).",
			"API tokens owned by Global Admin Accounts, which grant the token full control of the tenant.",
			"Recreate the token under a dedicated service account with a custom admin role limited to what the integration needs, or move the integration to an OAuth 2.0 service app with scoped grants; then revoke this token.",
			"The token can do anything a global admin can, without MFA, from wherever it is copied to. If it leaks from a script, a CI variable or a laptop, the tenant is fully compromised until someone notices and revokes it."},
		{TitleRootAccessKeyPresent, CategoryLeastPrivilege, SeverityCritical, EntityAccount,
			"The AWS account root user has an active access key.",
			"AWS root user with active access keys.",
			"Delete the root user's access keys. Move any automation that used them to IAM roles, or IAM Identity Center, with least-privilege policies.",
			"A root access key gives programmatic, unrestricted access to the whole AWS account without MFA, and cannot be limited by IAM policies. Leaked once, it is a full account takeover."},

		{TitleOldPasswordAccount, CategoryCredentialHygiene, SeverityLow, EntityAccount,
			fmt.Sprintf("An active human account's password has not changed for more than %d days.", pw),
			fmt.Sprintf("Accounts whose password has not changed for %d days.", pw+1),
			"Expire the password so the user sets a new one at the next sign-in, and consider passwordless sign-in. Set a maximum password age in the password policy.",
			"The longer a password lives, the likelier it has been reused elsewhere, phished, or exposed in a breach corpus; an old password that still works is an open door for credential stuffing."},
		{TitleOldPasswordAdmin, CategoryCredentialHygiene, SeverityMedium, EntityAccount,
			fmt.Sprintf("An active human admin account's password has not changed for more than %d days.", apw),
			fmt.Sprintf("Admin Accounts whose password has not changed for %d days.", apw+1),
			fmt.Sprintf("Expire the admin's password so a new one is set at the next sign-in, and give admins a password policy with a maximum age of %d days or a passwordless, phishing-resistant sign-in.", apw),
			"An old admin password has had a long time to be reused, phished or leaked; with it an attacker reaches administrative control."},
		{TitleOldPasswordGlobalAdmin, CategoryCredentialHygiene, SeverityHigh, EntityAccount,
			fmt.Sprintf("An active human global admin account's password has not changed for more than %d days.", apw),
			fmt.Sprintf("Global Admin Accounts whose password has not changed for %d days.", apw+1),
			"Expire the global admin's password now so a new one is set at the next sign-in, and move global admins to passwordless, phishing-resistant authentication.",
			"An old global admin password that leaks or was reused gives an attacker the whole tenant."},
		{TitleOldPasswordService, CategoryCredentialHygiene, SeverityLow, EntityAccount,
			fmt.Sprintf("An active service account's password has not changed for more than %d days.", pw),
			fmt.Sprintf("Service Accounts whose password has not changed for %d days.", pw+1),
			"Rotate the service account's password where it is stored (ideally a secrets vault with scheduled rotation) and update the integrations that use it; prefer OAuth clients or keys that rotate without downtime.",
			"Service account passwords are copied into configuration files and scripts and rarely changed; the older the password, the more places it lives and the likelier one of them has leaked."},
		{TitleOldPasswordAdminService, CategoryCredentialHygiene, SeverityMedium, EntityAccount,
			fmt.Sprintf("An active admin service account's password has not changed for more than %d days.", apw),
			fmt.Sprintf("Admin Service Accounts whose password has not changed for %d days.", apw+1),
			"Rotate the password in a secrets vault with scheduled rotation, update its integrations, and reduce the account's admin role to what the integration needs.",
			"An admin service account has no MFA; an old password copied into scripts is administrative access for whoever finds it."},
		{TitleOldPasswordGlobalAdminService, CategoryCredentialHygiene, SeverityHigh, EntityAccount,
			fmt.Sprintf("An active global admin service account's password has not changed for more than %d days.", apw),
			fmt.Sprintf("Global Admin Service Accounts whose password has not changed for %d days.", apw+1),
			"Rotate the password now, store it in a secrets vault with scheduled rotation, and replace the global admin role with a scoped one.",
			"A global admin service account has no MFA; its old password is full control of the tenant for anyone who finds a copy."},
		{TitleUnrotatedAPIToken, CategoryCredentialHygiene, SeverityMedium, EntityAccount,
			fmt.Sprintf("An active API token or client secret is older than %d days (listed in additionalData.unrotatedTokens).", c.TokenMaxAgeDays),
			fmt.Sprintf("API tokens and client secrets not rotated for %d days.", c.TokenMaxAgeDays+1),
			fmt.Sprintf("Create a replacement token or client secret, deploy it to the integration, then revoke the old one. Keep secrets in a vault and rotate them at least every %d days, or move to credentials that rotate automatically (private-key JWT, managed identities).", c.TokenMaxAgeDays),
			"Long-lived secrets accumulate in scripts, CI variables and laptops; the older a secret, the more copies exist and the likelier one has leaked. A leaked token works without MFA until it is revoked."},
		{TitleUnrotatedAccessKey, CategoryCredentialHygiene, SeverityMedium, EntityAccount,
			fmt.Sprintf("An active AWS access key was last rotated more than %d days ago (listed in additionalData.unrotatedTokens).", c.AccessKeyMaxAgeDays),
			fmt.Sprintf("AWS access keys not rotated for %d days.", c.AccessKeyMaxAgeDays+1),
			"Create a second access key, update the applications that use the old one, deactivate the old key, check that nothing breaks, then delete it. Better still, replace long-term keys with IAM roles or IAM Identity Center temporary credentials.",
			"Long-term access keys do not expire. An old key has had time to be copied into code, images and configuration; if one copy leaks, it grants the user's AWS permissions to anyone."},
		{TitleUnusedAccessKey, CategoryCredentialHygiene, SeverityMedium, EntityAccount,
			fmt.Sprintf("An active AWS access key has not been used for more than %d days (listed in additionalData.unrotatedTokens).", c.AccessKeyUnusedDays),
			fmt.Sprintf("AWS access keys not used for %d days.", c.AccessKeyUnusedDays+1),
			"Deactivate the key, wait long enough to confirm nothing depended on it, then delete it.",
			"An unused key gives no value but keeps working: if it has leaked, its misuse is the only activity it will show, and nobody expects it."},

		{TitlePartiallyOffboardedUser, CategoryAccountLifecycle, SeverityHigh, EntityUser,
			"A person deprovisioned or suspended in the primary identity provider still has an active account in another source (listed in additionalData.activeAccounts).",
			"Users deactivated or suspended in the identity provider who still have active accounts elsewhere.",
			"Deactivate or suspend the remaining accounts listed in activeAccounts, revoke their sessions, tokens and keys, and transfer what they own. Then provision those applications from the identity provider so that deactivation reaches them next time.",
			"Offboarding stopped halfway: the person can no longer sign in to the identity provider but can still sign in directly to other systems. A former employee, or whoever has their credentials, keeps access that nobody reviews."},
		{TitleOrphanedAccount, CategoryAccountLifecycle, SeverityLow, EntityAccount,
			"An active human account in a source other than the primary identity provider matches no person of the primary identity provider.",
			"Active accounts with no owner in the identity provider.",
			"Find the account's owner. If it belongs to a person, correct its email or login so it matches their identity provider account, or provision it from the identity provider; if nobody owns it, deactivate it.",
			"Accounts outside the identity provider escape joiner, mover and leaver processes and access reviews; they stay active after their owner leaves and are a favorite foothold for attackers."},
	}
}

// Lookup returns the detection with the given title, with the default
// thresholds; titles are matched exactly, as workflows route on them.
func Lookup(title string) (Detection, bool) {
	for _, d := range Catalog() {
		if d.Title == title {
			return d, true
		}
	}
	return Detection{}, false
}

// detectionsByTitle indexes a catalog for Run.
func detectionsByTitle(ds []Detection) map[string]*Detection {
	m := make(map[string]*Detection, len(ds))
	for i := range ds {
		m[ds[i].Title] = &ds[i]
	}
	return m
}
