package originimport

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/originimport/origintest"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// env is an origin filled with the quirk fixture and an empty FrostGuard.
type env struct {
	t      *testing.T
	origin string
	db     *store.DB
	dsn    string
	now    time.Time
}

func newEnv(t *testing.T, readings int) *env {
	t.Helper()
	e := &env{t: t, now: time.Now().UTC().Truncate(time.Second)}
	e.origin = origintest.New(t, origintest.Live)
	if err := origintest.Fill(context.Background(), e.origin, origintest.Options{Now: e.now, Readings: readings}); err != nil {
		t.Fatal(err)
	}
	e.db, e.dsn = testenv.OpenDB(t)
	return e
}

func (e *env) run(opts Options) *Report {
	e.t.Helper()
	ctx := context.Background()
	o, err := OpenOrigin(ctx, e.origin)
	if err != nil {
		e.t.Fatal(err)
	}
	defer o.Close(ctx)
	if opts.Now == nil {
		opts.Now = func() time.Time { return e.now }
	}
	rep, err := Run(ctx, e.db, o, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func TestScratchImport(t *testing.T) {
	e := newEnv(t, 300)
	rep := e.run(Options{Orgs: []string{origintest.ID("bistro"), origintest.ID("harbor")}})
	rep.Print(os.Stdout)
}
