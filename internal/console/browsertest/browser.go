// Package browsertest drives the web console in a real browser (Debian's
// chromium, headless, through github.com/chromedp/chromedp) and walks the
// admin's paths through it: importing the ISPM template, building a flow with
// an API Endpoint card, and connecting the ISPM webhook to it. It takes
// screenshots of each major page into a directory it prints, so that the look
// can be checked by eye.
//
// The walk runs against any server a start function returns: the console's
// own tests start a test world (internal/console/consoletest); the
// application's tests can point it at the fully wired server.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
// scripts/test installs it when it is missing.
const ChromiumPath = "/usr/bin/chromium"

// EnvScreenshots names a directory for the screenshots; by default the walk
// makes a new one under the system's temporary directory and keeps it.
const EnvScreenshots = "VIGIL_SCREENSHOTS"

// Browser is one headless browser tab on a console.
type Browser struct {
	t    testing.TB
	ctx  context.Context
	base string
	dir  string
	shot int
}

// NewBrowser starts chromium headless, with no sandbox (test containers run
// as root), a fresh profile, no GPU and no background networking, with a
// 1280×900 window. It fails the test when chromium is not installed.
func NewBrowser(t testing.TB, baseURL string) *Browser {
	t.Helper()
	if _, err := exec.LookPath(ChromiumPath); err != nil {
		t.Fatalf("chromium is not installed at %s: run scripts/test, which installs it, or apt-get install chromium", ChromiumPath)
	}
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "vigil-console-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G301: screenshots for people to look at
		t.Fatal(err)
	}
	t.Logf("screenshots of the console are in %s", dir)
	ctx := startChromium(t)
	b := &Browser{t: t, ctx: ctx, base: strings.TrimRight(baseURL, "/"), dir: dir}
	// Accept the confirm dialogs of destructive buttons.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return b
}

// startAttempts is how many times startChromium starts chromium before it
// fails the test: on a busy machine its process now and then exits before
// it listens, and starting it again is what a person would do.
const startAttempts = 3

// startChromium starts chromium with a fresh profile and returns the
// context of its first tab.
func startChromium(t testing.TB) context.Context {
	t.Helper()
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		actx, acancel := chromedp.NewExecAllocator(context.Background(), chromiumOptions(t.TempDir())...)
		ctx, cancel := chromedp.NewContext(actx)
		if err = chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err == nil {
			t.Cleanup(func() { cancel(); acancel() })
			return ctx
		}
		cancel()
		acancel()
		t.Logf("start chromium, attempt %d of %d: %v", attempt, startAttempts, err)
	}
	t.Fatalf("start chromium: %v", err)
	return nil
}

// chromiumOptions are the browser's flags, with profile as its profile's
// directory.
func chromiumOptions(profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("hide-scrollbars", true),
	}
}

// Dir is the directory of the screenshots.
func (b *Browser) Dir() string { return b.dir }

// step runs actions with a time limit, failing the test with what was being
// done and a screenshot of where it stopped.
func (b *Browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	where, _ := chromedp.Run(b.ctx, chromedp.Location())
	if png, serr := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); serr == nil {
		name := filepath.Join(b.dir, "FAILED.png")
		_ = os.WriteFile(name, png, 0o644) //nolint:gosec // G306: a screenshot for people to look at; the failure is reported below either way
		b.t.Logf("screenshot of the failure: %s", name)
	}
	if msg, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector('.flash, .notice.error, [role=alert]')||{}).innerText||''`)); msg != "" {
		b.t.Logf("the page said: %s", msg)
	}
	b.t.Fatalf("%s (at %s): %v", what, where, err)
}

// Open loads a page of the console.
func (b *Browser) Open(path string) {
	b.t.Helper()
	b.step("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// Follow clicks sel, which loads another page (a link or a submit
// button), and waits until the new page is loaded.
func (b *Browser) Follow(sel string) {
	b.t.Helper()
	b.step("follow "+sel,
		chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.stale = "1"`),
		chromedp.Click(sel),
	)
	b.waitLoaded("the page after " + sel)
}

// waitLoaded waits until the page that replaced the marked one is loaded.
// Evaluating fails while the navigation swaps documents; that is retried.
func (b *Browser) waitLoaded(what string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && !document.documentElement.dataset.stale && !!document.querySelector("main")`))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(30 * time.Millisecond)
	}
	b.fail("wait for "+what, fmt.Errorf("not loaded after 30 s (last error: %v)", last)) //nolint:errorlint // last is often nil, which %v prints plainly
}

// Click clicks sel without waiting for a page.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.step("click "+sel, chromedp.Click(sel))
}

// Type types text into the field matching the CSS selector sel, after
// clearing it.
func (b *Browser) Type(sel, text string) {
	b.t.Helper()
	clear := chromedp.Evaluate[chromedp.Void](`(e => { e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})) })(document.querySelector(` + jsString(sel) + `))`)
	if text == "" {
		b.step("clear "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), clear)
		return
	}
	if len(text) > 16 {
		// Long values (keys, tokens, URLs) are pasted: typing them key by
		// key takes seconds.
		b.step("paste into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), clear, chromedp.Evaluate[chromedp.Void](
			`(e => { e.value = `+jsString(text)+`; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})) })(document.querySelector(`+jsString(sel)+`))`))
		return
	}
	b.step("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), clear, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Select chooses the option with value in the select sel.
func (b *Browser) Select(sel, value string) {
	b.t.Helper()
	b.step("choose "+value+" in "+sel, chromedp.WaitVisible(sel), chromedp.SetValue(sel, value))
}

// Text returns the visible text of sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		b.fail("read the text of "+sel, err)
	}
	return strings.TrimSpace(s)
}

// Value returns the value of the field sel.
func (b *Browser) Value(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(sel))
	if err != nil {
		b.fail("read the value of "+sel, err)
	}
	return s
}

// Eval evaluates a JavaScript expression.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

// WaitFor waits until the JavaScript predicate is true, reloading the page
// every second when reload is set (for pages that show background work).
// Errors while a page is replaced are retried.
func (b *Browser) WaitFor(what, predicate string, reload bool, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	next := time.Now().Add(time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+predicate+`) } catch (e) { return false } })()`))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		if reload && time.Now().After(next) {
			ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
			_ = chromedp.Do(ctx, chromedp.Reload())
			cancel()
			next = time.Now().Add(time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fail("wait for "+what, fmt.Errorf("still not true after %s (last error: %v)", limit, last)) //nolint:errorlint // last is often nil, which %v prints plainly
}

// Shot saves a screenshot of the whole page as NN-name.png.
func (b *Browser) Shot(name string) {
	b.t.Helper()
	b.shot++
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name)), png, 0o644); err != nil { //nolint:gosec // G306: a screenshot for people to look at
		b.t.Fatal(err)
	}
}

// Flash returns the flash message of the page, or "".
func (b *Browser) Flash() string {
	b.t.Helper()
	return Eval[string](b, `(document.querySelector('.flash')||{}).innerText||''`)
}

// setValueAction sets a select's value.
func setValueAction(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(sel, v)
}
