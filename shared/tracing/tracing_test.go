package tracing_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/tracing"
)

const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

// daemon plays the X-Ray daemon: a UDP socket on loopback that collects the
// documents, each checked for the daemon's header line.
func daemon(t *testing.T) (addr string, next func() map[string]any) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().String(), func() map[string]any {
		t.Helper()
		buf := make([]byte, 65536)
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			return nil
		}
		head, body, ok := strings.Cut(string(buf[:n]), "\n")
		if !ok || head != `{"format": "json", "version": 1}` {
			t.Fatalf("not a daemon datagram: %q", buf[:n])
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("not JSON: %s", body)
		}
		return doc
	}
}

func install(t *testing.T, addr string) {
	t.Helper()
	exp, err := tracing.NewExporter(addr)
	if err != nil {
		t.Fatal(err)
	}
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tracing.NewProvider(exp))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
}

func lambdaContext(h string) context.Context {
	return tracing.FromLambda(context.WithValue(context.Background(), "x-amzn-trace-id", h)) //nolint:staticcheck // aws-lambda-go's key
}

func TestProviderCallsAreSubsegmentsOfTheLambdaSegment(t *testing.T) {
	addr, next := daemon(t)
	install(t, addr)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }))
	defer provider.Close()

	req, _ := http.NewRequestWithContext(lambdaContext(header), http.MethodPost, provider.URL+"/v2/messages?token=secret", nil)
	res, err := tracing.Client(time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	doc := next()
	if doc == nil {
		t.Fatal("no subsegment reached the daemon")
	}
	httpDoc, _ := doc["http"].(map[string]any)
	request, _ := httpDoc["request"].(map[string]any)
	response, _ := httpDoc["response"].(map[string]any)
	if doc["type"] != "subsegment" || doc["trace_id"] != "1-5759e988-bd862e3fe1be46a994272793" || doc["parent_id"] != "53995c3f42cd8ad8" ||
		doc["name"] != "127.0.0.1" || doc["namespace"] != "remote" || doc["fault"] != true ||
		request["method"] != "POST" || response["status"] != 502.0 {
		t.Errorf("subsegment %v", doc)
	}
	if u, _ := request["url"].(string); strings.Contains(u, "secret") || !strings.HasSuffix(u, "/v2/messages") {
		t.Errorf("the URL must lose its query: %q", u)
	}
	if id, _ := doc["id"].(string); len(id) != 16 || doc["end_time"].(float64) < doc["start_time"].(float64) {
		t.Errorf("id/times %v", doc)
	}

	// Not sampled by X-Ray: nothing is sent.
	req, _ = http.NewRequestWithContext(lambdaContext(strings.Replace(header, "Sampled=1", "Sampled=0", 1)), http.MethodGet, provider.URL, nil)
	if res, err := tracing.Client(time.Second).Do(req); err == nil {
		res.Body.Close()
	}
	if doc := next(); doc != nil {
		t.Errorf("an unsampled request was traced: %v", doc)
	}
}

func TestDatabaseRoundTripsAreSubsegments(t *testing.T) {
	addr, next := daemon(t)
	install(t, addr)
	db, _ := testenv.OpenDB(t) // store.Open installs the pgx tracer
	ctx := lambdaContext(header)
	var n int
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT count(*) FROM organizations WHERE slug = $1`, "x").Scan(&n); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	for doc = next(); doc != nil; doc = next() {
		if sql, _ := doc["sql"].(map[string]any); sql != nil && strings.Contains(sql["sanitized_query"].(string), "FROM organizations WHERE slug = $1") {
			break
		}
	}
	if doc == nil || doc["parent_id"] != "53995c3f42cd8ad8" || doc["name"] != "PostgreSQL" {
		t.Fatalf("no subsegment for the query: %v", doc)
	}
	if sql := doc["sql"].(map[string]any); sql["database_type"] != "PostgreSQL" {
		t.Errorf("sql %v", sql)
	}
}

func TestParseHeader(t *testing.T) {
	sc, ok := tracing.ParseHeader(header)
	if !ok || !sc.IsSampled() || sc.TraceID().String() != "5759e988bd862e3fe1be46a994272793" || sc.SpanID().String() != "53995c3f42cd8ad8" {
		t.Errorf("%v %v", sc, ok)
	}
	for _, bad := range []string{"", "Root=1-xyz;Parent=53995c3f42cd8ad8", "Root=1-5759e988-bd862e3fe1be46a994272793", "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"} {
		if _, ok := tracing.ParseHeader(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(header)
	f.Add("Root=1-;Parent=;Sampled=")
	f.Fuzz(func(t *testing.T, h string) {
		if sc, ok := tracing.ParseHeader(h); ok && !sc.IsValid() {
			t.Fatalf("%q: an invalid span context accepted", h)
		}
	})
}
