package app_test

// template.yaml, the local one-port server and events/ are checked here
// against the route catalog (catalog.go), the single source of truth.
//
// goformation parses the template into typed SAM resources, resolving
// intrinsics against parameter defaults (Stage=dev, ...). A few things it does
// not model (Globals merging, Schedule events with a RetryPolicy, the
// unresolved shape of !If/!Sub that the secret check needs) are read from the
// template in its raw form: goformation's own YAML reader with intrinsic
// processing turned off, so that short tags (!Ref, !Sub, ...) come back in
// their long form ({"Ref": ...}, {"Fn::Sub": ...}).

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/web"
)

// tplConfigOf maps each function to the configuration struct its main parses:
// the variables the template may set on it.
var tplConfigOf = map[string]any{
	app.API:               config.API{},
	app.Reports:           config.Reports{},
	app.StripeCheckout:    config.StripeCheckout{},
	app.StripeWebhook:     config.StripeWebhook{},
	app.TelnyxWebhook:     config.TelnyxWebhook{},
	app.TTNWebhook:        config.TTNWebhook{},
	app.ChirpStackWebhook: config.ChirpStackWebhook{},
	app.AlertSweeper:      config.AlertSweeper{},
	app.Migrate:           config.Migrate{},
	app.Realtime:          config.Realtime{},
}

// tplRuntimeVars are read by the Go runtime, not by a config struct.
var tplRuntimeVars = map[string]string{
	// The zone database the Makefile packs beside bootstrap (the binaries
	// do not embed time/tzdata).
	"ZONEINFO": "/var/task/zoneinfo.zip",
}

const tplOrgID = "3f1c9a52-7b4e-4c1d-9e2a-5b8f0d6c4a71"

// tplRepoRoot is the directory holding go.mod.
func tplRepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

type tplParsed struct {
	root    string
	typed   *cloudformation.Template
	globals *global.Function
	fns     map[string]*serverless.Function
	raw     map[string]any // long-form intrinsics, nothing resolved
}

func tplLoad(t *testing.T) tplParsed {
	t.Helper()
	root := tplRepoRoot(t)
	path := filepath.Join(root, "template.yaml")
	typed, err := goformation.Open(path)
	if err != nil {
		t.Fatalf("goformation cannot parse template.yaml: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	longForm, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(longForm, &raw); err != nil {
		t.Fatal(err)
	}
	globals, err := typed.GetServerlessGlobalFunction()
	if err != nil {
		globals = &global.Function{}
	}
	return tplParsed{root: root, typed: typed, globals: globals, fns: typed.GetAllServerlessFunctionResources(), raw: raw}
}

// rawProperties returns the Properties of a resource in the raw template.
func (p tplParsed) rawProperties(logicalID string) map[string]any {
	res, _ := p.raw["Resources"].(map[string]any)[logicalID].(map[string]any)
	props, _ := res["Properties"].(map[string]any)
	return props
}

func (p tplParsed) rawGlobalFunction() map[string]any {
	g, _ := p.raw["Globals"].(map[string]any)
	f, _ := g["Function"].(map[string]any)
	return f
}

// rawEnv is a function's environment as SAM deploys it: Globals merged
// with (and overridden by) the function's own variables.
func (p tplParsed) rawEnv(logicalID string) map[string]any {
	env := map[string]any{}
	for _, props := range []map[string]any{p.rawGlobalFunction(), p.rawProperties(logicalID)} {
		e, _ := props["Environment"].(map[string]any)
		vars, _ := e["Variables"].(map[string]any)
		for k, v := range vars {
			env[k] = v
		}
	}
	return env
}

func tplStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestTemplateFunctionsMatchCatalog(t *testing.T) {
	p := tplLoad(t)

	var want, got []string
	for _, fn := range app.Functions {
		want = append(want, fn.LogicalID)
	}
	for id := range p.fns {
		got = append(got, id)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		t.Fatalf("AWS::Serverless::Function resources = %v, catalog = %v", got, want)
	}

	for _, fn := range app.Functions {
		t.Run(fn.Name, func(t *testing.T) {
			f := p.fns[fn.LogicalID]
			runtime := tplStr(f.Runtime)
			if runtime == "" {
				runtime = tplStr(p.globals.Runtime)
			}
			if runtime != "provided.al2023" {
				t.Errorf("Runtime = %q, want provided.al2023", runtime)
			}
			arch := f.Architectures
			if arch == nil && p.globals.Architectures != nil {
				arch = *p.globals.Architectures
			}
			if !slices.Equal(arch, []string{"arm64"}) {
				t.Errorf("Architectures = %v, want [arm64]", arch)
			}
			handler := tplStr(f.Handler)
			if handler == "" {
				handler = tplStr(p.globals.Handler)
			}
			if handler != "bootstrap" {
				t.Errorf("Handler = %q, want bootstrap", handler)
			}
			if bm, _ := f.AWSCloudFormationMetadata["BuildMethod"].(string); bm != "makefile" {
				t.Errorf("Metadata.BuildMethod = %q, want makefile", bm)
			}
			if want := "frostguard-dev-" + fn.Name; tplStr(f.FunctionName) != want {
				t.Errorf("FunctionName (Stage=dev) = %q, want %q", tplStr(f.FunctionName), want)
			}

			if f.CodeUri == nil || f.CodeUri.String == nil {
				t.Fatalf("CodeUri must be a local path")
			}
			codeURI := filepath.Join(p.root, filepath.FromSlash(*f.CodeUri.String))
			if st, err := os.Stat(codeURI); err != nil || !st.IsDir() {
				t.Errorf("CodeUri %q is not a directory of the repository", *f.CodeUri.String)
			}
			main := filepath.Join(p.root, "functions", fn.Name, "main.go")
			if _, err := os.Stat(main); err != nil {
				t.Errorf("the function's main package is missing: %v", err)
			}

			timeout := 0
			if f.Timeout != nil {
				timeout = *f.Timeout
			} else if p.globals.Timeout != nil {
				timeout = *p.globals.Timeout
			}
			switch {
			case timeout <= 0:
				t.Errorf("no Timeout")
			case fn.Schedule != "" && timeout >= 60:
				t.Errorf("Timeout = %ds: a run must end before the next minute's", timeout)
			case len(fn.Routes) > 0 && timeout > 29:
				t.Errorf("Timeout = %ds exceeds the HTTP API's 30 s integration timeout", timeout)
			}
		})
	}

	// sam build runs `make build-<LogicalID>` in CodeUri (the repository root).
	t.Run("Makefile", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(p.root, "Makefile"))
		if errors.Is(err, fs.ErrNotExist) {
			t.Skip("no root Makefile yet: it must provide build-<LogicalID> for every function")
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range app.Functions {
			re := regexp.MustCompile(`(?m)^build-` + regexp.QuoteMeta(fn.LogicalID) + `\s*:`)
			if !re.Match(b) {
				t.Errorf("Makefile has no target build-%s (sam build needs it)", fn.LogicalID)
			}
		}
	})
}

// tplScheduleEvent is a Schedule (EventBridge rule) or ScheduleV2 (Scheduler)
// event in the raw template.
type tplScheduleEvent struct {
	Expression   string
	RetryAttempt any
}

func tplRawScheduleEvents(props map[string]any) []tplScheduleEvent {
	var out []tplScheduleEvent
	evs, _ := props["Events"].(map[string]any)
	for _, e := range evs {
		ev, _ := e.(map[string]any)
		typ, _ := ev["Type"].(string)
		if typ != "Schedule" && typ != "ScheduleV2" {
			continue
		}
		p, _ := ev["Properties"].(map[string]any)
		var se tplScheduleEvent
		if typ == "Schedule" {
			se.Expression, _ = p["Schedule"].(string)
		} else {
			se.Expression, _ = p["ScheduleExpression"].(string)
		}
		if rp, ok := p["RetryPolicy"].(map[string]any); ok {
			se.RetryAttempt = rp["MaximumRetryAttempts"]
		}
		out = append(out, se)
	}
	return out
}

func TestTemplateEventsMatchCatalog(t *testing.T) {
	p := tplLoad(t)

	apis := p.typed.GetAllServerlessHttpApiResources()
	if _, ok := apis["HttpApi"]; !ok || len(apis) != 1 {
		t.Fatalf("want exactly one AWS::Serverless::HttpApi named HttpApi, have %d", len(apis))
	}

	owner := map[string]string{} // route key -> function
	for _, fn := range app.Functions {
		t.Run(fn.Name, func(t *testing.T) {
			f := p.fns[fn.LogicalID]
			if f == nil {
				t.Fatalf("%s is not in the template", fn.LogicalID)
			}
			props := p.rawProperties(fn.LogicalID)
			rawEvents, _ := props["Events"].(map[string]any)

			var routes []string
			for name, ev := range f.Events {
				switch ev.Type {
				case "HttpApi":
					h := ev.Properties.HttpApiEvent
					if h == nil {
						t.Errorf("event %s: not an HttpApi event goformation understands", name)
						continue
					}
					key := tplStr(h.Method) + " " + tplStr(h.Path)
					routes = append(routes, key)
					if other, dup := owner[key]; dup {
						t.Errorf("route %q is declared twice (also on %s)", key, other)
					}
					owner[key] = fn.Name
					rawEv, _ := rawEvents[name].(map[string]any)
					rawProps, _ := rawEv["Properties"].(map[string]any)
					if apiID, _ := rawProps["ApiId"].(map[string]any); apiID["Ref"] != "HttpApi" {
						t.Errorf("event %s: ApiId must be !Ref HttpApi, is %v", name, rawProps["ApiId"])
					}
					if v := tplStr(h.PayloadFormatVersion); v != "" && v != "2.0" {
						t.Errorf("event %s: PayloadFormatVersion %q, the handlers speak 2.0", name, v)
					}
					// docs/ARCHITECTURE.md "Webhook answers": webhooks are never throttled.
					if fn.FunctionURL && h.RouteSettings != nil &&
						(h.RouteSettings.ThrottlingBurstLimit != nil || h.RouteSettings.ThrottlingRateLimit != nil) {
						t.Errorf("event %s: webhook route %q must not be throttled", name, key)
					}
				case "Schedule", "ScheduleV2":
				default:
					t.Errorf("event %s: unexpected type %s", name, ev.Type)
				}
			}
			var want []string
			for _, r := range fn.Routes {
				want = append(want, r.String())
			}
			slices.Sort(routes)
			slices.Sort(want)
			if !slices.Equal(routes, want) {
				t.Errorf("HttpApi routes = %q, catalog = %q", routes, want)
			}

			if got := f.FunctionUrlConfig != nil; got != fn.FunctionURL {
				t.Errorf("FunctionUrlConfig present = %v, catalog FunctionURL = %v", got, fn.FunctionURL)
			} else if got && f.FunctionUrlConfig.AuthType != "NONE" {
				t.Errorf("FunctionUrlConfig.AuthType = %q: providers authenticate by signature, want NONE", f.FunctionUrlConfig.AuthType)
			}

			schedules := tplRawScheduleEvents(props)
			switch {
			case fn.Schedule == "" && len(schedules) > 0:
				t.Errorf("has %d schedule events, the catalog has no schedule", len(schedules))
			case fn.Schedule != "" && len(schedules) != 1:
				t.Errorf("has %d schedule events, want 1 (%s)", len(schedules), fn.Schedule)
			case fn.Schedule != "":
				s := schedules[0]
				if s.Expression != fn.Schedule {
					t.Errorf("schedule %q, catalog %q", s.Expression, fn.Schedule)
				}
				if n, ok := s.RetryAttempt.(float64); !ok || n != 0 {
					t.Errorf("schedule RetryPolicy.MaximumRetryAttempts = %v, want 0 (the next run is the retry)", s.RetryAttempt)
				}
				if c := f.EventInvokeConfig; c == nil || c.MaximumRetryAttempts == nil || *c.MaximumRetryAttempts != 0 {
					t.Errorf("EventInvokeConfig.MaximumRetryAttempts must be 0: Lambda retries failed async runs twice otherwise")
				}
			}
		})
	}

	// No stage-wide throttle: it would apply to the webhook routes too.
	api := apis["HttpApi"]
	if d := api.DefaultRouteSettings; d != nil && (d.ThrottlingBurstLimit != nil || d.ThrottlingRateLimit != nil) {
		t.Errorf("HttpApi.DefaultRouteSettings throttles every route, webhooks included (docs/ARCHITECTURE.md, Webhook answers)")
	}
	if rs, ok := p.rawProperties("HttpApi")["RouteSettings"].(map[string]any); ok {
		for key := range rs {
			if fn, ok := app.Lookup(owner[key]); ok && fn.FunctionURL {
				t.Errorf("HttpApi.RouteSettings throttles webhook route %q", key)
			}
		}
	}
}

// tplTestEnvironment is enough configuration for every function to build;
// nothing connects at build time.
func tplTestEnvironment() map[string]string {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return map[string]string{
		"DATABASE_URL":          "postgres://u@127.0.0.1:1/db",
		"STACK_AUTH_PROJECT_ID": "p",
		"STRIPE_WEBHOOK_SECRET": "whsec_x",
		"TELNYX_PUBLIC_KEY":     base64.StdEncoding.EncodeToString(pub),
	}
}

// tplSamplePath turns an API Gateway route path into a concrete request path
// ({proxy+} becomes a route the api serves: GET /api/v1/me answers 401
// without a token, which proves the request reached the api's router;
// {report} a report the reports function serves; every other parameter an
// id).
func tplSamplePath(path string) string {
	path = strings.ReplaceAll(path, "{proxy+}", "me")
	path = strings.ReplaceAll(path, "{report}", "haccp")
	return regexp.MustCompile(`\{[^}/]+\}`).ReplaceAllString(path, tplOrgID)
}

func TestTemplateRoutesServedLocally(t *testing.T) {
	local, err := app.NewLocal(tplTestEnvironment(), nil)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	for _, fn := range app.Functions {
		for _, r := range fn.Routes {
			t.Run(fn.Name+" "+r.String(), func(t *testing.T) {
				method := r.Method
				if method == "ANY" {
					method = http.MethodGet
				}
				var body *strings.Reader
				if method == http.MethodGet {
					body = strings.NewReader("")
				} else {
					body = strings.NewReader(`{}`)
				}
				req := httptest.NewRequest(method, tplSamplePath(r.Path), body)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				local.Handler.ServeHTTP(rec, req)

				if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
					t.Fatalf("%s %s: status %d", method, req.URL.Path, rec.Code)
				}
				if r.Path == "/healthz" {
					// The one-port server answers /healthz for every function
					// at once (build.go localHealth): check this function is
					// in the report.
					var h struct {
						Functions map[string]struct {
							Function string `json:"function"`
						} `json:"functions"`
					}
					if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
						t.Fatalf("/healthz: %v: %s", err, rec.Body)
					}
					if h.Functions[fn.Name].Function != fn.Name {
						t.Errorf("/healthz does not report %s: %s", fn.Name, rec.Body)
					}
					return
				}
				if got := rec.Header().Get(web.FunctionHeader); got != fn.Name {
					t.Errorf("%s %s answered by %q, want %q", method, req.URL.Path, got, fn.Name)
				}
			})
		}
	}
}

var tplSecretName = regexp.MustCompile(`SECRET|KEY|PASSWORD|DATABASE_URL|REDIS_URL|DSN`)

var tplDynamicReference = regexp.MustCompile(`^\{\{resolve:(secretsmanager|ssm):[^{}]+\}\}$`)

var tplSubPlaceholder = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

// tplSecretValueProblem says why a raw environment value is not a safe secret
// reference ("" when it is one). Empty means unset: no secret.
func tplSecretValueProblem(v any, params map[string]any) string {
	switch v := v.(type) {
	case string:
		if v == "" || tplDynamicReference.MatchString(v) {
			return ""
		}
		return "is a literal"
	case map[string]any:
		if len(v) != 1 {
			return fmt.Sprintf("is an unexpected object %v", v)
		}
		if sub, ok := v["Fn::Sub"]; ok {
			s, ok := sub.(string)
			if list, isList := sub.([]any); isList && len(list) > 0 {
				s, ok = list[0].(string)
			}
			// ${Param} placeholders are substituted before CloudFormation
			// resolves the reference.
			if ok && tplDynamicReference.MatchString(tplSubPlaceholder.ReplaceAllString(s, "x")) {
				return ""
			}
			return fmt.Sprintf("is !Sub %v, not a dynamic reference", sub)
		}
		if ref, ok := v["Ref"].(string); ok {
			if ref == "AWS::NoValue" {
				return ""
			}
			param, _ := params[ref].(map[string]any)
			if noEcho, _ := param["NoEcho"].(bool); noEcho {
				return ""
			}
			return fmt.Sprintf("is !Ref %s, not a NoEcho parameter", ref)
		}
		if args, ok := v["Fn::If"].([]any); ok && len(args) == 3 {
			for _, branch := range args[1:] {
				if p := tplSecretValueProblem(branch, params); p != "" {
					return p
				}
			}
			return ""
		}
		return fmt.Sprintf("is %v", v)
	default:
		return fmt.Sprintf("is a literal %v", v)
	}
}

func TestTemplateNoLiteralSecrets(t *testing.T) {
	p := tplLoad(t)
	params, _ := p.raw["Parameters"].(map[string]any)

	scopes := map[string]map[string]any{"Globals": nil}
	for id, res := range p.raw["Resources"].(map[string]any) {
		typ, _ := res.(map[string]any)["Type"].(string)
		if typ == "AWS::Serverless::Function" || typ == "AWS::Lambda::Function" {
			scopes[id] = nil
		}
	}
	for scope := range scopes {
		props := p.rawGlobalFunction()
		if scope != "Globals" {
			props = p.rawProperties(scope)
		}
		e, _ := props["Environment"].(map[string]any)
		vars, _ := e["Variables"].(map[string]any)
		for name, v := range vars {
			if !tplSecretName.MatchString(name) {
				continue
			}
			if problem := tplSecretValueProblem(v, params); problem != "" {
				t.Errorf("%s: %s %s; use '{{resolve:secretsmanager:...}}'", scope, name, problem)
			}
		}
	}

	// Belt and braces: nothing anywhere in the file looks like a credential.
	text, err := os.ReadFile(filepath.Join(p.root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"sk_live_", "sk_test_", "rk_live_", "whsec_", "-----BEGIN", "postgres://", "redis://"} {
		if bytes.Contains(text, []byte(marker)) {
			t.Errorf("template.yaml contains %q: secrets belong in Secrets Manager", marker)
		}
	}
}

// tplConfigVars lists the variables a configuration struct reads, and the
// ones a deployment must set: the required ones and those a feature needs
// (tagged `deploy:"<feature>"`: without them the feature is off, e.g. TTN
// management answers 503), with the feature each serves.
func tplConfigVars(typ reflect.Type, all map[string]bool, needed map[string]string) {
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			tplConfigVars(f.Type, all, needed)
			continue
		}
		tag := f.Tag.Get("env")
		if tag == "" {
			continue
		}
		parts := strings.Split(tag, ",")
		all[parts[0]] = true
		if slices.Contains(parts[1:], "required") {
			needed[parts[0]] = "required"
		}
		if feature := f.Tag.Get("deploy"); feature != "" {
			needed[parts[0]] = feature
		}
	}
}

func TestTemplateEnvironmentMatchesConfig(t *testing.T) {
	p := tplLoad(t)
	for _, fn := range app.Functions {
		t.Run(fn.Name, func(t *testing.T) {
			cfg, ok := tplConfigOf[fn.Name]
			if !ok {
				t.Fatalf("no configuration struct known for %s: add it to tplConfigOf", fn.Name)
			}
			reads, needed := map[string]bool{}, map[string]string{}
			tplConfigVars(reflect.TypeOf(cfg), reads, needed)
			env := p.rawEnv(fn.LogicalID)
			for name, want := range tplRuntimeVars {
				if got, _ := env[name].(string); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			for name := range env {
				if _, runtimeVar := tplRuntimeVars[name]; !reads[name] && !runtimeVar {
					t.Errorf("sets %s, which %T does not read", name, cfg)
				}
			}
			for name, why := range needed {
				v, ok := env[name]
				if s, literal := v.(string); !ok || (literal && s == "") {
					t.Errorf("does not set %s, which %T needs (%s)", name, cfg, why)
				}
			}
		})
	}
}

func TestTemplateLogGroups(t *testing.T) {
	p := tplLoad(t)
	groups := p.typed.GetAllLogsLogGroupResources()
	for _, fn := range app.Functions {
		f := p.fns[fn.LogicalID]
		if f == nil {
			t.Errorf("%s is not in the template", fn.LogicalID)
			continue
		}
		want := "/aws/lambda/" + tplStr(f.FunctionName)
		found := false
		for id, g := range groups {
			if tplStr(g.LogGroupName) != want {
				continue
			}
			found = true
			if g.RetentionInDays == nil || *g.RetentionInDays <= 0 {
				t.Errorf("log group %s has no retention", id)
			}
			if !slices.Contains(f.AWSCloudFormationDependsOn, id) {
				t.Errorf("%s should DependsOn %s, or Lambda may create the group first", fn.LogicalID, id)
			}
		}
		if !found {
			t.Errorf("%s: no AWS::Logs::LogGroup named %s", fn.LogicalID, want)
		}
	}
}

// tplRouteMatches reports whether an API Gateway route matches a request.
func tplRouteMatches(r app.Route, method, path string) bool {
	if r.Method != "ANY" && r.Method != method {
		return false
	}
	pattern := regexp.QuoteMeta(r.Path)
	pattern = strings.ReplaceAll(pattern, `\{proxy\+\}`, `.+`)
	pattern = regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(pattern, `[^/]+`)
	return regexp.MustCompile("^" + pattern + "$").MatchString(path)
}

func tplDecodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// TestEventsMatchCatalog checks that every sample event is a well-formed
// payload of the type its function receives, for one of its routes.
// (invoke_test.go runs them through the handlers.)
func TestEventsMatchCatalog(t *testing.T) {
	root := tplRepoRoot(t)
	dirs, err := os.ReadDir(filepath.Join(root, "events"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() {
			t.Errorf("events/%s: events live in events/<function>/", d.Name())
			continue
		}
		fn, ok := app.Lookup(d.Name())
		if !ok {
			t.Errorf("events/%s: no such function in the catalog", d.Name())
			continue
		}
		seen[fn.Name] = true
		files, _ := filepath.Glob(filepath.Join(root, "events", fn.Name, "*.json"))
		if len(files) == 0 {
			t.Errorf("events/%s has no event", fn.Name)
		}
		if len(fn.Routes) > 0 {
			if _, err := os.Stat(filepath.Join(root, "events", fn.Name, "healthz.json")); err != nil {
				t.Errorf("events/%s/healthz.json is missing", fn.Name)
			}
		}
		for _, file := range files {
			rel, _ := filepath.Rel(root, file)
			t.Run(filepath.ToSlash(rel), func(t *testing.T) {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if fn.Schedule != "" {
					tplCheckScheduledEvent(t, b)
					return
				}
				if fn.CustomResource != "" {
					tplCheckCustomResourceEvent(t, fn, b)
					return
				}
				if len(fn.WebSocketRoutes) > 0 {
					tplCheckWebSocketEvent(t, fn, b)
					return
				}
				tplCheckHTTPEvent(t, fn, b)
			})
		}
	}
	for _, fn := range app.Functions {
		if !seen[fn.Name] {
			t.Errorf("events/%s/ is missing", fn.Name)
		}
	}
}

func tplCheckScheduledEvent(t *testing.T, b []byte) {
	var ev events.EventBridgeEvent
	if err := tplDecodeStrict(b, &ev); err != nil {
		t.Fatalf("not an EventBridge event: %v", err)
	}
	if ev.Version != "0" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" {
		t.Errorf("version/detail-type/source = %q/%q/%q, want 0/Scheduled Event/aws.events", ev.Version, ev.DetailType, ev.Source)
	}
	if ev.ID == "" || ev.AccountID == "" || ev.Region == "" || ev.Time.IsZero() || len(ev.Resources) == 0 {
		t.Errorf("id, account, region, time and resources must be set")
	}
	if len(ev.Detail) == 0 || string(ev.Detail) != "{}" {
		t.Errorf("detail = %s, a scheduled event carries {}", ev.Detail)
	}
}

func tplCheckCustomResourceEvent(t *testing.T, fn app.Function, b []byte) {
	var ev struct {
		cfn.Event
		ServiceToken string `json:"ServiceToken"` // sent by CloudFormation, not modelled by cfn.Event
	}
	if err := tplDecodeStrict(b, &ev); err != nil {
		t.Fatalf("not a CloudFormation custom resource event: %v", err)
	}
	if ev.LogicalResourceID != fn.CustomResource || ev.ResourceType != "Custom::"+fn.CustomResource {
		t.Errorf("LogicalResourceId/ResourceType = %q/%q, want %s", ev.LogicalResourceID, ev.ResourceType, fn.CustomResource)
	}
	if ev.RequestID == "" || ev.StackID == "" || !strings.HasPrefix(ev.ResponseURL, "https://") || ev.ResourceProperties["ServiceToken"] == nil {
		t.Errorf("RequestId, StackId, an https ResponseURL and ResourceProperties.ServiceToken must be set")
	}
}

// tplCheckWebSocketEvent: an API Gateway WebSocket API event of one of the
// function's route keys.
func tplCheckWebSocketEvent(t *testing.T, fn app.Function, b []byte) {
	var ev events.APIGatewayWebsocketProxyRequest
	if err := tplDecodeStrict(b, &ev); err != nil {
		t.Fatalf("not an API Gateway WebSocket event: %v", err)
	}
	rc := ev.RequestContext
	if !slices.Contains(fn.WebSocketRoutes, rc.RouteKey) {
		t.Fatalf("routeKey %q is not a route of %s (%q)", rc.RouteKey, fn.Name, fn.WebSocketRoutes)
	}
	want := map[string]string{"$connect": "CONNECT", "$disconnect": "DISCONNECT"}[rc.RouteKey]
	if want == "" {
		want = "MESSAGE"
	}
	if rc.EventType != want {
		t.Errorf("eventType %q, want %q for %s", rc.EventType, want, rc.RouteKey)
	}
	if rc.ConnectionID == "" || rc.RequestID == "" || rc.APIID == "" || rc.Stage == "" || rc.ConnectedAt == 0 {
		t.Errorf("requestContext must carry connectionId, requestId, apiId, stage and connectedAt")
	}
	if !strings.Contains(rc.DomainName, ".execute-api.") {
		t.Errorf("domainName %q is not an execute-api host", rc.DomainName)
	}
	if want == "MESSAGE" && ev.Body == "" {
		t.Errorf("a message event without a body")
	}
}

// TestTemplateWebSocketAPIMatchesCatalog: the WebSocket API's routes are the
// catalog's, each integrated with the function, the gateway may invoke it,
// and every function that publishes live events knows the management
// endpoint and may post to connections.
func TestTemplateWebSocketAPIMatchesCatalog(t *testing.T) {
	p := tplLoad(t)
	fn, _ := app.Lookup(app.Realtime)
	res, _ := p.raw["Resources"].(map[string]any)
	if props := p.rawProperties("RealtimeApi"); props["ProtocolType"] != "WEBSOCKET" || props["RouteSelectionExpression"] != "$request.body.action" {
		t.Fatalf("RealtimeApi must be a WEBSOCKET API routing on $request.body.action: %v", props)
	}
	var routes []string
	for id, r := range res {
		m, _ := r.(map[string]any)
		if m["Type"] != "AWS::ApiGatewayV2::Route" {
			continue
		}
		props := p.rawProperties(id)
		routes = append(routes, fmt.Sprint(props["RouteKey"]))
		if ref, _ := props["ApiId"].(map[string]any); ref["Ref"] != "RealtimeApi" {
			t.Errorf("%s: ApiId must be !Ref RealtimeApi", id)
		}
		if !strings.Contains(fmt.Sprint(props["Target"]), "RealtimeIntegration") {
			t.Errorf("%s: not integrated with RealtimeIntegration: %v", id, props["Target"])
		}
	}
	slices.Sort(routes)
	want := slices.Sorted(slices.Values(fn.WebSocketRoutes))
	if !slices.Equal(routes, want) {
		t.Errorf("WebSocket routes %q, catalog %q", routes, want)
	}
	if uri := fmt.Sprint(p.rawProperties("RealtimeIntegration")["IntegrationUri"]); !strings.Contains(uri, "RealtimeFunction.Arn") {
		t.Errorf("RealtimeIntegration does not invoke RealtimeFunction: %s", uri)
	}
	if perm := p.rawProperties("RealtimeInvokePermission"); perm["Principal"] != "apigateway.amazonaws.com" ||
		!strings.Contains(fmt.Sprint(perm["FunctionName"]), "RealtimeFunction") {
		t.Errorf("API Gateway may not invoke RealtimeFunction: %v", perm)
	}
	for _, publisher := range []string{"ApiFunction", "TtnWebhookFunction", "ChirpstackWebhookFunction", "TelnyxWebhookFunction", "AlertSweeperFunction"} {
		if v := fmt.Sprint(p.rawEnv(publisher)["REALTIME_MANAGEMENT_ENDPOINT"]); !strings.Contains(v, "${RealtimeApi}.execute-api.") {
			t.Errorf("%s: REALTIME_MANAGEMENT_ENDPOINT = %s", publisher, v)
		}
		if pol := fmt.Sprint(p.rawProperties(publisher)["Policies"]); !strings.Contains(pol, "execute-api:ManageConnections") ||
			!strings.Contains(pol, "@connections") {
			t.Errorf("%s may not post to connections: %s", publisher, pol)
		}
	}
}

func tplCheckHTTPEvent(t *testing.T, fn app.Function, b []byte) {
	var ev events.APIGatewayV2HTTPRequest
	if err := tplDecodeStrict(b, &ev); err != nil {
		t.Fatalf("not an API Gateway v2 / Function URL event: %v", err)
	}
	rc := ev.RequestContext
	if ev.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", ev.Version)
	}
	if rc.RouteKey != ev.RouteKey || rc.Stage != "$default" {
		t.Errorf("requestContext.routeKey/stage = %q/%q, want %q/$default", rc.RouteKey, rc.Stage, ev.RouteKey)
	}
	if rc.HTTP.Path != ev.RawPath || rc.HTTP.Method == "" || rc.HTTP.SourceIP == "" || rc.HTTP.Protocol == "" {
		t.Errorf("requestContext.http must carry method, path (= rawPath), protocol and sourceIp")
	}
	if rc.AccountID == "" || rc.APIID == "" || rc.RequestID == "" || rc.Time == "" || rc.TimeEpoch == 0 {
		t.Errorf("requestContext must carry accountId, apiId, requestId, time and timeEpoch")
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q: API Gateway sends header names in lower case", k)
		}
	}
	if ev.IsBase64Encoded {
		if _, err := base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Errorf("isBase64Encoded but body is not base64: %v", err)
		}
	}
	if ev.RouteKey == "$default" {
		// A Function URL event.
		if !fn.FunctionURL {
			t.Errorf("%s has no Function URL; route its events through the HTTP API", fn.Name)
		}
		if !regexp.MustCompile(`^[a-z0-9]+\.lambda-url\.[a-z0-9-]+\.on\.aws$`).MatchString(rc.DomainName) {
			t.Errorf("domainName %q is not a Function URL host", rc.DomainName)
		}
		return
	}
	// An HTTP API event: its route must be one of the function's (or the
	// /healthz every function serves, for direct `sam local invoke`).
	var route *app.Route
	for _, r := range append(slices.Clone(fn.Routes), app.Route{Method: "GET", Path: "/healthz"}) {
		if r.String() == ev.RouteKey {
			route = &r
			break
		}
	}
	if route == nil {
		t.Fatalf("routeKey %q is not a route of %s", ev.RouteKey, fn.Name)
	}
	if !tplRouteMatches(*route, rc.HTTP.Method, ev.RawPath) {
		t.Errorf("%s %s does not match route %q", rc.HTTP.Method, ev.RawPath, ev.RouteKey)
	}
	if !strings.Contains(rc.DomainName, ".execute-api.") {
		t.Errorf("domainName %q is not an execute-api host", rc.DomainName)
	}
}

// TestTemplateCORSMatchesMiddleware: API Gateway answers preflights and
// overrides the CORS headers of every answer with its CorsConfiguration, and
// the middleware answers them locally (make dev): a header exposed in one and
// not the other works on a laptop and fails in AWS, or the reverse.
func TestTemplateCORSMatchesMiddleware(t *testing.T) {
	p := tplLoad(t)
	cors, _ := p.rawProperties("HttpApi")["CorsConfiguration"].(map[string]any)
	if cors == nil {
		t.Fatal("HttpApi has no CorsConfiguration")
	}
	list := func(key string) []string {
		var out []string
		for _, v := range cors[key].([]any) {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	for key, want := range map[string][]string{
		"AllowHeaders":  web.CORSAllowHeaders,
		"AllowMethods":  web.CORSAllowMethods,
		"ExposeHeaders": web.CORSExposeHeaders,
	} {
		if got := list(key); !slices.Equal(got, want) {
			t.Errorf("HttpApi CorsConfiguration.%s = %q, the middleware (shared/web) answers %q", key, got, want)
		}
	}
	if got, _ := cors["MaxAge"].(float64); int(got) != web.CORSMaxAgeSeconds {
		t.Errorf("CorsConfiguration.MaxAge = %v, the middleware answers %d", cors["MaxAge"], web.CORSMaxAgeSeconds)
	}
	origins, _ := cors["AllowOrigins"].([]any)
	if len(origins) != 1 || !reflect.DeepEqual(origins[0], map[string]any{"Ref": "FrontendUrl"}) {
		t.Errorf("CorsConfiguration.AllowOrigins = %v, want [!Ref FrontendUrl] (the FRONTEND_URL the middleware allows)", origins)
	}
}

// TestTemplateMigrationsRunBeforeTheFunctions: a deploy brings the database
// to the release's schema before it updates any function that reads it, and
// a failed migration fails the deploy (the custom resource's answer).
func TestTemplateMigrationsRunBeforeTheFunctions(t *testing.T) {
	p := tplLoad(t)
	var migrate app.Function
	for _, fn := range app.Functions {
		if fn.CustomResource != "" {
			migrate = fn
		}
	}
	if migrate.Name == "" {
		t.Fatal("no function in the catalog runs the migrations")
	}
	res, _ := p.raw["Resources"].(map[string]any)[migrate.CustomResource].(map[string]any)
	if res == nil {
		t.Fatalf("no %s resource", migrate.CustomResource)
	}
	if res["Type"] != "Custom::"+migrate.CustomResource {
		t.Errorf("%s is a %v, want Custom::%s", migrate.CustomResource, res["Type"], migrate.CustomResource)
	}
	props := p.rawProperties(migrate.CustomResource)
	if token := props["ServiceToken"]; !reflect.DeepEqual(token, map[string]any{"Fn::GetAtt": []any{migrate.LogicalID, "Arn"}}) &&
		!reflect.DeepEqual(token, map[string]any{"Fn::GetAtt": migrate.LogicalID + ".Arn"}) {
		t.Errorf("ServiceToken = %v, want !GetAtt %s.Arn", props["ServiceToken"], migrate.LogicalID)
	}
	// CloudFormation sends an Update only when a property changes: one
	// must change with every release of the code (which embeds the SQL).
	if !reflect.DeepEqual(props["CodeVersion"], map[string]any{"Ref": migrate.LogicalID + ".Version"}) {
		t.Errorf("CodeVersion = %v, want !Ref %s.Version (a new version per release)", props["CodeVersion"], migrate.LogicalID)
	}
	if alias, _ := p.rawProperties(migrate.LogicalID)["AutoPublishAlias"].(string); alias == "" {
		t.Errorf("%s has no AutoPublishAlias: %s.Version would not change with the code", migrate.LogicalID, migrate.LogicalID)
	}
	if timeout := p.fns[migrate.LogicalID].Timeout; timeout == nil || *timeout < 600 {
		t.Errorf("%s Timeout = %v: a migration may wait 5 minutes for another deploy's lock", migrate.LogicalID, timeout)
	}
	if st, _ := props["ServiceTimeout"].(float64); int(st) < *p.fns[migrate.LogicalID].Timeout {
		t.Errorf("ServiceTimeout %v is shorter than the function's timeout", props["ServiceTimeout"])
	}
	for _, fn := range app.Functions {
		f := p.fns[fn.LogicalID]
		if f == nil {
			continue
		}
		needs := slices.Contains(f.AWSCloudFormationDependsOn, migrate.CustomResource)
		switch {
		case fn.NoDatabaseSchema && needs:
			t.Errorf("%s depends on the migrations it runs", fn.Name)
		case !fn.NoDatabaseSchema && !needs:
			t.Errorf("%s does not DependsOn %s: it could be updated before the schema it needs", fn.Name, migrate.CustomResource)
		}
		if fn.NoDatabaseSchema && (len(f.Events) > 0 || f.FunctionUrlConfig != nil) {
			t.Errorf("%s must only be invoked by its custom resource", fn.Name)
		}
	}
}
