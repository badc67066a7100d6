// Package deploy holds the files that run Vigil outside a developer's
// machine: a container image, a systemd unit, a docker-compose cluster and
// Kubernetes manifests. Its tests read those files and check that they agree
// with each other and with the vigil command (the environment variables it
// reads, the probes it serves), so a renamed flag or a dropped hardening
// setting fails here instead of in someone's cluster.
package deploy

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// vigilEnv returns the VIGIL_* variables the vigil command and the packages it
// wires read, found in the Go source (not in tests).
func vigilEnv(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`"(VIGIL_[A-Z0-9_]+)"`)
	names := map[string]bool{}
	for _, dir := range []string{"../cmd/vigil", "../internal/app", "../internal/secret"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				names[m[1]] = true
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("found no VIGIL_ environment variable in the vigil command's source")
	}
	return names
}

func checkEnv(t *testing.T, where string, names []string, known map[string]bool) {
	t.Helper()
	for _, n := range names {
		if !known[n] {
			t.Errorf("%s sets %s, which vigil does not read", where, n)
		}
	}
}

func readYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

// get walks a decoded YAML document by keys and list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var user, entry string
	var static bool
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "FROM "):
			froms = append(froms, line)
		case strings.HasPrefix(line, "USER "):
			user = strings.TrimPrefix(line, "USER ")
		case strings.HasPrefix(line, "ENTRYPOINT "):
			entry = line
		case strings.Contains(line, "CGO_ENABLED=0") && strings.Contains(line, "./cmd/vigil"):
			static = true
		}
	}
	if len(froms) < 2 {
		t.Errorf("the Dockerfile has %d stages; it must build in one and run in another", len(froms))
	}
	if len(froms) > 0 && froms[len(froms)-1] != "FROM scratch" {
		t.Errorf("the final stage is %q; it must be FROM scratch (a static binary needs no OS)", froms[len(froms)-1])
	}
	if !static {
		t.Error("the Dockerfile does not build ./cmd/vigil with CGO_ENABLED=0, so the binary would not be static")
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("the image runs as %q; it must run as a non-root user", user)
	}
	if !strings.Contains(entry, "/usr/local/bin/vigil") {
		t.Errorf("ENTRYPOINT is %q; it must start /usr/local/bin/vigil", entry)
	}
	if !strings.Contains(string(b), "ca-certificates.crt") {
		t.Error("the image carries no CA certificates, so calls to the vendors' HTTPS APIs would fail")
	}
}

func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("systemd/vigil.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("line %q is not KEY=VALUE", line)
			continue
		}
		keys[k] = append(keys[k], v)
	}
	if got := keys["ExecStart"]; len(got) != 1 || !strings.HasSuffix(got[0], "vigil serve") {
		t.Errorf("ExecStart = %q, want one command running vigil serve", got)
	}
	for _, k := range []string{"NoNewPrivileges", "ProtectSystem", "DynamicUser", "StateDirectory", "EnvironmentFile"} {
		if len(keys[k]) == 0 {
			t.Errorf("the unit lacks %s", k)
		}
	}
	var env []string
	for _, e := range keys["Environment"] {
		n, _, _ := strings.Cut(e, "=")
		env = append(env, n)
	}
	checkEnv(t, "the systemd unit", env, vigilEnv(t))
}

func TestCompose(t *testing.T) {
	known := vigilEnv(t)
	docs := readYAML(t, "compose/compose.yaml")
	if len(docs) != 1 {
		t.Fatalf("compose.yaml holds %d documents, want 1", len(docs))
	}
	services, _ := get(docs[0], "services").(map[string]any)
	if get(services, "postgres", "image") == nil {
		t.Error("the compose file has no postgres service")
	}
	var nodes []string
	var dbURL, key any
	for name, s := range services {
		if !strings.HasPrefix(name, "vigil-") {
			continue
		}
		nodes = append(nodes, name)
		if get(s, "read_only") != true {
			t.Errorf("%s does not run with a read-only root filesystem", name)
		}
		env, _ := get(s, "environment").(map[string]any)
		var names []string
		for n := range env {
			names = append(names, n)
		}
		checkEnv(t, name, names, known)
		if dbURL == nil {
			dbURL, key = env["VIGIL_DATABASE_URL"], env["VIGIL_MASTER_KEY"]
		} else if env["VIGIL_DATABASE_URL"] != dbURL || env["VIGIL_MASTER_KEY"] != key {
			t.Errorf("%s does not share the database and master key of the other nodes", name)
		}
		if u, _ := env["VIGIL_DATABASE_URL"].(string); !strings.HasPrefix(u, "postgres://") {
			t.Errorf("%s's database is %q; nodes share work only on PostgreSQL", name, u)
		}
	}
	sort.Strings(nodes)
	if len(nodes) != 3 {
		t.Fatalf("the compose file runs %d Vigil nodes (%v), want 3", len(nodes), nodes)
	}
	conf, err := os.ReadFile("compose/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var upstream []string
	for _, m := range regexp.MustCompile(`server\s+([a-z0-9-]+):8080`).FindAllStringSubmatch(string(conf), -1) {
		upstream = append(upstream, m[1])
	}
	sort.Strings(upstream)
	if strings.Join(upstream, ",") != strings.Join(nodes, ",") {
		t.Errorf("the load balancer sends to %v, but the nodes are %v", upstream, nodes)
	}
}

func TestKubernetes(t *testing.T) {
	known := vigilEnv(t)
	byKind := map[string]map[string]any{}
	kust := readYAML(t, "kubernetes/kustomization.yaml")
	res, _ := get(kust[0], "resources").([]any)
	for _, r := range res {
		for _, d := range readYAML(t, filepath.Join("kubernetes", r.(string))) {
			kind, _ := d["kind"].(string)
			byKind[kind] = d
		}
	}
	for _, k := range []string{"Deployment", "Service", "Secret", "PodDisruptionBudget"} {
		if byKind[k] == nil {
			t.Fatalf("the kustomization lists no %s", k)
		}
	}
	dep := byKind["Deployment"]
	labels := get(dep, "spec", "template", "metadata", "labels").(map[string]any)
	matches := func(what string, sel any) {
		m, _ := sel.(map[string]any)
		if len(m) == 0 {
			t.Errorf("the %s has no selector", what)
		}
		for k, v := range m {
			if labels[k] != v {
				t.Errorf("the %s selects %s=%v, which the pods do not carry", what, k, v)
			}
		}
	}
	matches("Deployment", get(dep, "spec", "selector", "matchLabels"))
	matches("Service", get(byKind["Service"], "spec", "selector"))
	matches("PodDisruptionBudget", get(byKind["PodDisruptionBudget"], "spec", "selector", "matchLabels"))

	if g, _ := get(dep, "spec", "template", "spec", "terminationGracePeriodSeconds").(int); g <= 20 {
		t.Errorf("terminationGracePeriodSeconds is %d; it must exceed the server's 20 s drain", g)
	}
	if get(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("the pods may run as root")
	}
	c := get(dep, "spec", "template", "spec", "containers", 0)
	if get(c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("the container's root filesystem is writable")
	}
	if p := get(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readiness probe path %v, want /readyz", p)
	}
	if p := get(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("liveness probe path %v, want /healthz", p)
	}
	secretData, _ := get(byKind["Secret"], "stringData").(map[string]any)
	env, _ := get(c, "env").([]any)
	var names []string
	for _, e := range env {
		names = append(names, get(e, "name").(string))
		if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
			if get(ref, "name") != get(byKind["Secret"], "metadata", "name") {
				t.Errorf("%v reads a Secret the manifests do not define", get(e, "name"))
			}
			if _, ok := secretData[get(ref, "key").(string)]; !ok {
				t.Errorf("%v reads key %v, which the Secret lacks", get(e, "name"), get(ref, "key"))
			}
		}
	}
	checkEnv(t, "the Deployment", names, known)
	for _, must := range []string{"VIGIL_MASTER_KEY", "VIGIL_DATABASE_URL"} {
		found := false
		for _, n := range names {
			found = found || n == must
		}
		if !found {
			t.Errorf("the Deployment does not set %s", must)
		}
	}
}
