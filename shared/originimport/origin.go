package originimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Origin is a read-only session on the origin database. The session is
// opened with default_transaction_read_only, so even a mistaken statement
// cannot write there; every read of one organisation's tables happens in
// one REPEATABLE READ transaction (one consistent snapshot, the counts of
// the report included).
type Origin struct {
	conn *pgx.Conn
	cfg  *pgx.ConnConfig // for the readings workers' own sessions
	// Name is "host:port/dbname": what the report and origin_imports say,
	// never the credentials.
	Name string
	// columns of every table of the public schema, as they exist: the
	// running origin drifted from its migrations, so nothing assumes a
	// column a migration did not create (records read every column there is).
	columns map[string]map[string]bool
}

// OpenOrigin connects to the origin read-only and reads its catalogue.
func OpenOrigin(ctx context.Context, url string) (*Origin, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may echo the URL, password included
		return nil, errors.New("OpenOrigin: --from is not a PostgreSQL URL")
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.RuntimeParams["application_name"] = "frostguard import-origin"
	cfg.RuntimeParams["timezone"] = "UTC"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("OpenOrigin: connecting to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	o := &Origin{conn: conn, cfg: cfg, Name: fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)}
	var ro string
	if err := conn.QueryRow(ctx, `SHOW default_transaction_read_only`).Scan(&ro); err != nil || ro != "on" {
		conn.Close(ctx)
		return nil, fmt.Errorf("OpenOrigin: the session is not read-only (%q, %v)", ro, err)
	}
	rows, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`)
	if err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("OpenOrigin: reading the catalogue: %w", err)
	}
	o.columns = map[string]map[string]bool{}
	var table, column string
	_, err = pgx.ForEachRow(rows, []any{&table, &column}, func() error {
		if o.columns[table] == nil {
			o.columns[table] = map[string]bool{}
		}
		o.columns[table][column] = true
		return nil
	})
	if err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("OpenOrigin: reading the catalogue: %w", err)
	}
	return o, nil
}

// connect opens another read-only session (a readings worker's).
func (o *Origin) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, o.cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("connecting to the origin: %w", err)
	}
	return conn, nil
}

// Close ends the session.
func (o *Origin) Close(ctx context.Context) { o.conn.Close(ctx) }

// Has reports whether the origin has the table.
func (o *Origin) Has(table string) bool { return o.columns[table] != nil }

// HasColumn reports whether the origin's table has the column.
func (o *Origin) HasColumn(table, column string) bool { return o.columns[table][column] }

// snapshot runs fn in one read-only REPEATABLE READ transaction.
func (o *Origin) snapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, o.conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// record is one origin row, every column it has, as JSON values (numbers
// kept as written, so numeric(7,2) loses nothing).
type record map[string]any

// records reads the rows of table matching where (SQL over alias t) as
// records, in id order. A table the origin does not have has no rows.
func (o *Origin) records(ctx context.Context, q pgx.Tx, table, where string, args ...any) ([]record, error) {
	if !o.Has(table) {
		return nil, nil
	}
	order := ""
	if o.HasColumn(table, "id") {
		order = " ORDER BY t.id"
	}
	rows, err := q.Query(ctx, `SELECT to_jsonb(t) FROM `+pgx.Identifier{table}.Sanitize()+` t WHERE `+where+order, args...)
	if err != nil {
		return nil, fmt.Errorf("reading origin %s: %w", table, err)
	}
	var out []record
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&raw}, func() error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var r record
		if err := dec.Decode(&r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading origin %s: %w", table, err)
	}
	return out, nil
}

// count counts the rows of table matching where (0 when the table is absent).
func (o *Origin) count(ctx context.Context, q pgx.Tx, table, where string, args ...any) (int64, error) {
	if !o.Has(table) {
		return 0, nil
	}
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+` t WHERE `+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting origin %s: %w", table, err)
	}
	return n, nil
}

// str is the column as text ("" when absent or null).
func (r record) str(col string) string {
	switch v := r[col].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// strp is the column as text, nil when absent, null or blank.
func (r record) strp(col string) *string {
	s := strings.TrimSpace(r.str(col))
	if s == "" {
		return nil
	}
	return &s
}

// id is the row's uuid, lower case.
func (r record) id(col string) string { return strings.ToLower(r.str(col)) }

// num is the column as a number; ok is false when absent, null or not a number.
func (r record) num(col string) (float64, bool) {
	n, ok := r[col].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

// integer is the column as an int; ok is false when absent, null or fractional.
func (r record) integer(col string) (int, bool) {
	f, ok := r.num(col)
	if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// boolean is the column as a bool, def when absent or null.
func (r record) boolean(col string, def bool) bool {
	if b, ok := r[col].(bool); ok {
		return b
	}
	return def
}

// time is the column as a time, nil when absent, null or unparseable.
func (r record) time(col string) *time.Time {
	s := r.str(col)
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z07", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t
		}
	}
	return nil
}

// strings is a text[] column.
func (r record) strings(col string) []string {
	arr, _ := r[col].([]any)
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// jsonText decodes a column that holds JSON, either as jsonb or as text
// holding serialised JSON (the origin does both); nil when it holds neither.
func (r record) jsonText(col string) any {
	switch v := r[col].(type) {
	case string:
		var out any
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if dec.Decode(&out) != nil {
			return nil
		}
		return out
	case nil:
		return nil
	default:
		return v
	}
}

// deleted is when the origin soft-deleted the row: deleted_at, else, when
// is_active is false (what the origin's code actually sets), updated_at (or
// now for a row without one).
func (r record) deleted(now time.Time) *time.Time {
	if t := r.time("deleted_at"); t != nil {
		return t
	}
	if !r.boolean("is_active", true) {
		if t := r.time("updated_at"); t != nil {
			return t
		}
		return &now
	}
	return nil
}
