package tracing

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// daemonHeader precedes every document sent to the X-Ray daemon.
const daemonHeader = `{"format": "json", "version": 1}` + "\n"

// maxDocument is what one UDP datagram to the daemon may carry.
const maxDocument = 64 << 10

// Exporter sends ended spans to the X-Ray daemon as subsegment documents.
type Exporter struct {
	mu   sync.Mutex
	conn *net.UDPConn
}

// NewExporter connects (UDP: no handshake) to the daemon at addr.
func NewExporter(addr string) (*Exporter, error) {
	c, err := dialUDP(addr)
	if err != nil {
		return nil, err
	}
	return &Exporter{conn: c}, nil
}

// subsegment is X-Ray's independent subsegment document.
type subsegment struct {
	Type      string    `json:"type"`
	ID        string    `json:"id"`
	TraceID   string    `json:"trace_id"`
	ParentID  string    `json:"parent_id"`
	Name      string    `json:"name"`
	StartTime float64   `json:"start_time"`
	EndTime   float64   `json:"end_time"`
	Namespace string    `json:"namespace,omitempty"`
	Fault     bool      `json:"fault,omitempty"`
	Error     bool      `json:"error,omitempty"`
	SQL       *sqlInfo  `json:"sql,omitempty"`
	HTTP      *httpInfo `json:"http,omitempty"`
	Cause     *cause    `json:"cause,omitempty"`
}

type sqlInfo struct {
	SanitizedQuery string `json:"sanitized_query"`
	DatabaseType   string `json:"database_type"`
}

type httpInfo struct {
	Request  httpRequest   `json:"request"`
	Response *httpResponse `json:"response,omitempty"`
}

type httpRequest struct {
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"`
}

type httpResponse struct {
	Status int `json:"status"`
}

type cause struct {
	Exceptions []exception `json:"exceptions"`
}

type exception struct {
	Message string `json:"message"`
}

// Document renders a span as X-Ray's subsegment document.
func Document(s sdktrace.ReadOnlySpan) ([]byte, error) {
	tid := s.SpanContext().TraceID().String()
	doc := subsegment{
		Type:      "subsegment",
		ID:        s.SpanContext().SpanID().String(),
		TraceID:   "1-" + tid[:8] + "-" + tid[8:],
		ParentID:  s.Parent().SpanID().String(),
		Name:      s.Name(),
		StartTime: seconds(s.StartTime()),
		EndTime:   seconds(s.EndTime()),
	}
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case attrNamespace:
			doc.Namespace = kv.Value.AsString()
		case attrSQL:
			doc.SQL = &sqlInfo{SanitizedQuery: truncate(kv.Value.AsString(), 2000), DatabaseType: "PostgreSQL"}
		case attrMethod:
			doc.http().Request.Method = kv.Value.AsString()
		case attrURL:
			doc.http().Request.URL = kv.Value.AsString()
		case attrStatus:
			status := int(kv.Value.AsInt64())
			doc.http().Response = &httpResponse{Status: status}
			doc.Error = doc.Error || (status >= 400 && status < 500)
			doc.Fault = doc.Fault || status >= 500
		}
	}
	if s.Status().Code == codes.Error {
		doc.Fault = true
		doc.Cause = &cause{Exceptions: []exception{{Message: truncate(s.Status().Description, 500)}}}
	}
	return json.Marshal(doc)
}

func (d *subsegment) http() *httpInfo {
	if d.HTTP == nil {
		d.HTTP = &httpInfo{}
	}
	return d.HTTP
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ExportSpans sends each span in its own datagram; the daemon does the rest.
// A send failure is returned but costs the request nothing.
func (e *Exporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var first error
	for _, s := range spans {
		doc, err := Document(s)
		if err == nil && len(doc)+len(daemonHeader) > maxDocument {
			err = fmt.Errorf("span %s: %d bytes is over a datagram", s.Name(), len(doc))
		}
		if err == nil {
			_, err = e.conn.Write(append([]byte(daemonHeader), doc...))
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Shutdown closes the socket.
func (e *Exporter) Shutdown(context.Context) error { return e.conn.Close() }
