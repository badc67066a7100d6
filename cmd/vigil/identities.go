package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/posture/identity"
)

func newIdentitiesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identities",
		Short: "List the people and accounts the last scan found",
	}
	cmd.AddCommand(newIdentitiesListCmd(g), newIdentitiesShowCmd(g))
	return cmd
}

func newIdentitiesListCmd(g *globals) *cobra.Command {
	var search, src, privileged, mfa, kind, status, activity string
	var minIssues, limit, offset int
	var accounts, asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--privileged true|false] [--mfa none|pending|enrolled|unknown] [--accounts] [--json]",
		Short: "List people (or accounts) by name, filtered",
		Long: `List the people of the last scan by name, or with --accounts every account.
Account filters (--source, --privileged, --mfa, --type, --status, --activity)
select people with one account that meets them all: --privileged true --mfa
none lists the admins whose admin account has no MFA. --json prints the
objects GET /api/v1/identities and /api/v1/accounts answer with.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"q": search, "source": src, "privileged": privileged, "mfa": mfa, "type": kind,
				"status": status, "activity": activity} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if minIssues > 0 {
				q.Set("minIssues", strconv.Itoa(minIssues))
			}
			q.Set("limit", strconv.Itoa(limit))
			q.Set("offset", strconv.Itoa(offset))
			a, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			svc := identity.New(a.Store, a.Config.Now)
			f, err := identity.ParseFilter(q, svc.Now())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			var shown, total int
			if accounts {
				list, n, err := svc.Accounts(ctx, f)
				if err != nil {
					return err
				}
				if asJSON {
					return writePostureJSON(g.stdout, list)
				}
				shown, total = len(list), n
				fmt.Fprintln(tw, "ID\tACCOUNT\tSOURCE\tTYPE\tPRIVILEGE\tMFA\tSTATUS\tPERSON\tOPEN ISSUES")
				for _, x := range list {
					name := x.Login
					if name == "" {
						name = x.IDInService
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", x.ID, name, x.Source, x.Type, x.Privilege, x.MFA, x.Status,
						orDash(x.PersonID), x.OpenIssues)
				}
			} else {
				list, n, err := svc.People(ctx, f)
				if err != nil {
					return err
				}
				if asJSON {
					return writePostureJSON(g.stdout, list)
				}
				shown, total = len(list), n
				fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tSTATUS\tACCOUNTS\tOPEN ISSUES")
				for _, p := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", p.ID, p.DisplayName, p.Email, p.Status, p.Accounts, p.OpenIssues)
				}
			}
			if total == 0 {
				fmt.Fprintln(g.stdout, "No identity matches. Identities appear after a scan.")
				return nil
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if shown < total {
				fmt.Fprintf(g.stdout, "\n%d of %d shown; use --offset %d for more.\n", shown, total, offset+shown)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&search, "search", "", "part of a name, email or login")
	fl.StringVar(&src, "source", "", "a source's name")
	fl.StringVar(&privileged, "privileged", "", "true: an active admin or global admin account; false: an account with no admin role")
	fl.StringVar(&mfa, "mfa", "", "none, pending, enrolled or unknown (active human accounts)")
	fl.StringVar(&kind, "type", "", "human or service")
	fl.StringVar(&status, "status", "", "active, staged, suspended or deprovisioned")
	fl.StringVar(&activity, "activity", "", fmt.Sprintf("active (signed in within %d days) or inactive", identity.InactiveDays))
	fl.IntVar(&minIssues, "min-issues", 0, "at least this many open issues")
	fl.IntVar(&limit, "limit", 100, fmt.Sprintf("show at most this many (up to %d)", identity.MaxLimit))
	fl.IntVar(&offset, "offset", 0, "skip this many")
	fl.BoolVar(&accounts, "accounts", false, "list accounts instead of people")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newIdentitiesShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show a person with every account and issue",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := identity.New(a.Store, a.Config.Now).Person(cmd.Context(), args[0])
			if identity.IsNotFound(err) {
				return fmt.Errorf("no identity has the id %s; list them with vigil identities list", args[0])
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writePostureJSON(g.stdout, p)
			}
			fmt.Fprintf(g.stdout, "%s <%s>, %s, %d accounts, %d open issues\n\n", p.DisplayName, p.Email, p.Status, p.Accounts, p.OpenIssues)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tSOURCE\tTYPE\tPRIVILEGE\tMFA\tSTATUS\tCREDENTIALS")
			for _, x := range p.AccountList {
				var creds []string
				for _, c := range x.Credentials {
					creds = append(creds, fmt.Sprintf("%s %s (%d days)", c.Kind, c.ID, c.AgeDays))
				}
				name := x.Login
				if name == "" {
					name = x.IDInService
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, x.Source, x.Type, x.Privilege, x.MFA, x.Status, orDash(strings.Join(creds, ", ")))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout)
			tw = tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ISSUE\tSEVERITY\tSTATUS\tTITLE")
			for _, i := range p.Issues {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", i.ID, i.Severity, i.Status, i.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the person as JSON (the shape of GET /api/v1/identities/{id})")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
