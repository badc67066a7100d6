package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// The chain scenario's names: the ISPM template's routing flow and the
// helper its "No MFA" events go to, whose connector action is the end of
// the chain.
const (
	chainTemplate    = "identity-security-posture-management"
	chainFolder      = "Bench ISPM"
	chainRouting     = "1.0 ISPM Event Routing Flow"
	chainHelper      = "3.2 Okta - Add user to a group"
	chainAction      = "addToGroup"
	chainSource      = "bench-chain"
	chainIntegration = "Bench chain"
	chainTitle       = "No MFA - Account"
	// chainMaxInFlight and chainRate are the highest limits an integration
	// accepts (its defaults are 4 in flight and 20 per second).
	chainMaxInFlight = 100
	chainRate        = 1000
)

// runChain follows issues from a scan to the connector action that
// remediates them, the way the ISPM template does it: a snapshot scan
// opens ChainIssues "No MFA - Account" issues, the outbound integration
// (automated for that title, its limits raised to the highest allowed)
// posts each event to the routing flow's invoke URL on loopback, the
// routing flow starts helper 3.2 without waiting, and 3.2 adds the user to
// a group through an Okta connection in dry run, which records the request
// instead of sending it. The latency of an issue is from its creation to
// the end of that connector step, both read from the database afterwards.
func runChain(ctx context.Context, cfg Config, t *target) (Result, error) {
	svc := t.srv.Services()
	helperID, routingID, err := setUpChain(ctx, cfg, t)
	if err != nil {
		return Result{}, fmt.Errorf("set up the chain: %w", err)
	}
	// A later scenario sharing the database (PostgreSQL) must neither feed
	// the chain nor scan its organization with its own: both Okta, the
	// chain's would be the primary and every other person an orphan.
	defer func() {
		ctx := context.WithoutCancel(ctx)
		if err := svc.Hooks.Delete(ctx, chainIntegration); err != nil {
			fmt.Fprintf(cfg.Progress, "  %-13s cannot remove its integration, which later scenarios may see: %v\n", "chain", err)
		}
		if err := svc.Sources.Remove(ctx, chainSource, "bench"); err != nil {
			fmt.Fprintf(cfg.Progress, "  %-13s cannot remove its source, which later scenarios may scan: %v\n", "chain", err)
		}
	}()

	fmt.Fprintf(cfg.Progress, "  %-13s scanning a snapshot that opens %d issues\n", "chain", cfg.ChainIssues)
	began := time.Now()
	ticks0, cpuErr := cpuTicks(os.Getpid())
	res, err := svc.Sources.Scan(ctx, source.ScanOptions{Sources: []string{chainSource}})
	if err != nil {
		return Result{}, err
	}
	if res.Status != source.ScanOK || res.Issues.Opened != cfg.ChainIssues {
		return Result{}, fmt.Errorf("the chain's scan ended %s with %d issues opened, want %d", res.Status, res.Issues.Opened, cfg.ChainIssues)
	}

	// Wait until every issue has reached its connector action.
	wait, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	last := time.Now()
	for {
		n, err := t.app.Store.FlowExecutionCount(wait, helperID)
		if err == nil && n >= cfg.ChainIssues {
			var left int
			if left, err = t.app.Store.UnfinishedFlowExecutions(wait, helperID); err == nil && left == 0 {
				break
			}
		}
		if err != nil {
			return Result{}, fmt.Errorf("count the helper's executions: %w", err)
		}
		if time.Since(last) >= time.Second {
			fmt.Fprintf(cfg.Progress, "  %-13s %d of %d helper executions started\n", "chain", n, cfg.ChainIssues)
			last = time.Now()
		}
		select {
		case <-wait.Done():
			return Result{}, fmt.Errorf("%d of %d helper executions started: %w", n, cfg.ChainIssues, wait.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	ticks1, err := cpuTicks(os.Getpid())
	spent := time.Since(began)
	result, rerr := chainResult(ctx, cfg, t, routingID, helperID)
	if rerr == nil && cpuErr == nil && err == nil {
		// The servers run in this process, so its CPU time from the scan
		// to the last action is the chain's (the database's own, on
		// PostgreSQL, aside): per issue, it says what a rate could be on
		// a machine whose processors are all the chain's, and over the
		// time taken, how many processors the chain had.
		cpu := float64(ticks1-ticks0) / userHZ
		result.Extra = map[string]float64{"cpuMsPerIssue": cpu * 1000 / float64(cfg.ChainIssues), "cpuCores": cpu / spent.Seconds()}
	}
	return result, rerr
}

// setUpChain adds the template, its Okta connection in dry run, the
// integration and the snapshot source, and returns the helper and routing
// flows' ids.
func setUpChain(ctx context.Context, cfg Config, t *target) (helperID, routingID string, err error) {
	svc := t.srv.Services()
	added, err := svc.Templates.Add(ctx, template.FlowsInstaller{Flows: svc.Flows, By: "bench"}, chainTemplate, chainFolder,
		map[string]string{"oktaMfaGroupId": "00g1bench0mfa0group0"})
	if err != nil {
		return "", "", err
	}
	if _, err := svc.Connections.Create(ctx, connection.Input{Name: "Okta", Kind: connection.KindOkta, DryRun: true,
		Fields: map[string]string{"url": "https://acme.okta.com", "token": "00bench-okta-api-token-not-real"}}); err != nil { //nolint:gosec // G101: made up, for a dry-run connection
		return "", "", err
	}
	for _, title := range []string{chainHelper, chainRouting} {
		f, err := svc.Flows.FindFlow(ctx, title, added.Folder)
		if err != nil {
			return "", "", err
		}
		if _, err := svc.Flows.SetOn(ctx, f.ID, true); err != nil {
			return "", "", err
		}
		if title == chainHelper {
			helperID = f.ID
		} else {
			routingID = f.ID
		}
	}
	ep, err := svc.Endpoints.Ensure(ctx, routingID)
	if err != nil {
		return "", "", err
	}
	token, err := svc.Endpoints.Token(ep)
	if err != nil {
		return "", "", err
	}
	if _, _, err := svc.Hooks.Create(ctx, hooks.Input{Name: chainIntegration, URL: invoke.InvokeURL(t.srv.PublicURL(), ep.Alias),
		Keys:        []hooks.Key{{Name: "clientToken", Placement: hooks.PlaceParam, Value: token}},
		MaxInFlight: chainMaxInFlight, RatePerSecond: chainRate}); err != nil {
		return "", "", err
	}
	on := true
	if _, err := svc.Hooks.SetAutomation(ctx, chainIntegration, hooks.AutomationInput{AutoSend: &on, Titles: []string{chainTitle}}); err != nil {
		return "", "", err
	}
	file, err := writeChainSnapshot(t.app.Config.SnapshotDir, cfg.ChainIssues)
	if err != nil {
		return "", "", err
	}
	// On demand only: a scheduled scan would race the measured one.
	if _, err := svc.Sources.Add(ctx, source.Input{Name: chainSource, Kind: source.KindSnapshot, Settings: source.Settings{File: file},
		Schedule: -1}); err != nil {
		return "", "", err
	}
	return helperID, routingID, nil
}

// writeChainSnapshot writes an Okta organization of n active people, each
// with no MFA factor and nothing else wrong: a scan of it opens exactly n
// "No MFA - Account" issues.
func writeChainSnapshot(dir string, n int) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	now := time.Now().UTC().Truncate(time.Second)
	recent := now.Add(-24 * time.Hour)
	src := graph.Source{Name: chainSource, Product: graph.ProductOkta, Tenant: "bench.okta.com"}
	for i := range n {
		login := fmt.Sprintf("user%07d@example.com", i)
		src.Accounts = append(src.Accounts, &graph.Account{IDInService: fmt.Sprintf("00ubench%012d", i), Login: login, Email: login,
			DisplayName: fmt.Sprintf("User %d", i), Status: graph.StatusActive, Kind: graph.KindHuman,
			MFA: graph.MFA{State: graph.MFANone}, Created: now.AddDate(0, 0, -30), LastLogin: &recent, PasswordChanged: &recent})
	}
	path := filepath.Join(dir, "bench-chain.json")
	f, err := os.Create(path) //nolint:gosec // G304: a fixed name in the bench's own directory
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	err = graph.WriteSnapshot(w, &graph.Snapshot{Format: graph.SnapshotFormat, GeneratedAt: now, PrimarySource: chainSource,
		Sources: []graph.Source{src}})
	if err == nil {
		err = w.Flush()
	}
	if err := errors.Join(err, f.Close()); err != nil {
		return "", fmt.Errorf("write the chain's snapshot: %w", err)
	}
	return path, nil
}

// chainResult reads, for every issue, when it was opened and when its
// connector action was recorded.
func chainResult(ctx context.Context, cfg Config, t *target, routingID, helperID string) (Result, error) {
	issues, err := t.app.Store.AllPostureIssues(ctx)
	if err != nil {
		return Result{}, err
	}
	opened := map[string]time.Time{}
	for _, is := range issues {
		if is.Title == chainTitle {
			opened[is.ID] = is.CreatedAt
		}
	}
	if err := traceChain(ctx, cfg, t, opened, routingID, helperID); err != nil {
		return Result{}, err
	}
	svc := t.srv.Services()
	var lats []time.Duration
	var first, lastAction time.Time
	errs := 0
	before := ""
	for {
		page, err := svc.Flows.Executions(ctx, flows.ExecutionFilter{FlowID: helperID, Before: before, Limit: 500})
		if err != nil {
			return Result{}, err
		}
		for _, x := range page {
			at, issueID, err := actionOf(ctx, svc.Flows, x.ID)
			if err != nil {
				return Result{}, err
			}
			o, ok := opened[issueID]
			if !ok || at.IsZero() {
				errs++
				continue
			}
			delete(opened, issueID)
			lats = append(lats, max(0, at.Sub(o)))
			if first.IsZero() || o.Before(first) {
				first = o
			}
			if at.After(lastAction) {
				lastAction = at
			}
		}
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	errs += len(opened)
	res := Result{Name: "chain", Requests: cfg.ChainIssues, Errors: errs, P50ms: ms(percentile(lats, 0.5)), P99ms: ms(percentile(lats, 0.99)),
		Note: "issue opened → dry-run connector action recorded"}
	if span := lastAction.Sub(first); span > 0 {
		res.PerSec = float64(len(lats)) / span.Seconds()
	}
	return res, nil
}

// actionOf returns when an execution of the helper ended its connector
// step, and the issue it was for.
func actionOf(ctx context.Context, fs *flows.Service, execID string) (time.Time, string, error) {
	h, err := fs.Execution(ctx, execID)
	if err != nil {
		return time.Time{}, "", err
	}
	var at time.Time
	for _, s := range h.Steps {
		if s.Name == chainAction && s.Error == nil {
			at = s.EndedAt
		}
	}
	issueID := ""
	if in, ok := h.Execution.Input.(map[string]any); ok {
		if ed, ok := in["eventData"].(map[string]any); ok {
			issueID, _ = ed["id"].(string)
		}
	}
	return at, issueID, nil
}
