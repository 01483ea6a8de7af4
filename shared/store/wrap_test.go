package store_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// exemptFromWrap are the methods that run the caller's code rather than a
// query of their own: InTx's error is fn's, named by the method that called it.
var exemptFromWrap = map[string]bool{"DB.InTx": true}

// wrapsItsError reports whether fd's first statement is
// defer wrap(&<its error result>, want).
func wrapsItsError(fd *ast.FuncDecl, want string) bool {
	last := fd.Type.Results.List[len(fd.Type.Results.List)-1]
	if len(last.Names) == 0 || len(fd.Body.List) == 0 {
		return false
	}
	errName := last.Names[len(last.Names)-1].Name
	d, ok := fd.Body.List[0].(*ast.DeferStmt)
	if !ok || len(d.Call.Args) != 2 {
		return false
	}
	if fn, ok := d.Call.Fun.(*ast.Ident); !ok || fn.Name != "wrap" {
		return false
	}
	ref, ok := d.Call.Args[0].(*ast.UnaryExpr)
	if !ok || ref.Op != token.AND {
		return false
	}
	if id, ok := ref.X.(*ast.Ident); !ok || id.Name != errName {
		return false
	}
	lit, ok := d.Call.Args[1].(*ast.BasicLit)
	if !ok {
		return false
	}
	name, err := strconv.Unquote(lit.Value)
	return err == nil && name == want
}

// Every exported method of DB and of the transaction types (…Tx) that
// returns an error starts with `defer wrap(&err, "store.Name")` (or
// "store.Type.Name"), in the manner of golang/pkgsite's internal/postgres:
// a 5xx log line says which query failed. The methods are read from the
// source with go/parser, and cross-checked by reflection so none escapes
// the reading.
func TestEveryStoreMethodNamesItsErrors(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || !fd.Name.IsExported() || fd.Type.Results == nil {
				continue
			}
			recv := fd.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			typ, ok := recv.(*ast.Ident)
			if !ok || (typ.Name != "DB" && !strings.HasSuffix(typ.Name, "Tx")) {
				continue
			}
			results := fd.Type.Results.List
			if id, ok := results[len(results)-1].Type.(*ast.Ident); !ok || id.Name != "error" {
				continue
			}
			key := typ.Name + "." + fd.Name.Name
			checked[key] = true
			if exemptFromWrap[key] {
				continue
			}
			want := "store." + fd.Name.Name
			if typ.Name != "DB" {
				want = "store." + key
			}
			if !wrapsItsError(fd, want) {
				t.Errorf("%s (%s): its first statement must be defer wrap(&err, %q) with err its named error result",
					key, fset.Position(fd.Pos()), want)
			}
		}
	}
	if len(checked) < 150 {
		t.Fatalf("only %d methods read: the check is not reading the package", len(checked))
	}
	errorType := reflect.TypeFor[error]()
	for _, v := range []any{(*store.DB)(nil), (*store.SweepTx)(nil), (*store.UplinkTx)(nil)} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if n := m.Type.NumOut(); n == 0 || m.Type.Out(n-1) != errorType {
				continue
			}
			if key := typ.Elem().Name() + "." + m.Name; !checked[key] {
				t.Errorf("%s returns an error but was not found in the source the check reads", key)
			}
		}
	}
	t.Logf("%d methods checked", len(checked))
}

// A failing query's error names its method, once, and keeps its
// classification: an unreachable database is still a 503 (and still a
// *pgconn.ConnectError underneath), a missing row still a 404.
func TestAFailingQueryNamesItsMethod(t *testing.T) {
	ctx := context.Background()
	down, err := store.Open("postgres://u@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	_, err = down.RoleIn(ctx, domain.NewID(), domain.NewID())
	if !strings.HasPrefix(err.Error(), "store.RoleIn: ") || strings.Count(err.Error(), "store.RoleIn") != 1 {
		t.Errorf("error %q does not name store.RoleIn once", err)
	}
	var connectErr *pgconn.ConnectError
	if apperr.CodeOf(err) != apperr.Unavailable || !errors.As(err, &connectErr) {
		t.Errorf("code %q for %v: the wrap must keep the classification", apperr.CodeOf(err), err)
	}

	db, _ := testenv.OpenDB(t)
	_, err = db.Export(ctx, domain.NewID(), domain.NewID())
	if !strings.HasPrefix(err.Error(), "store.Export: ") {
		t.Errorf("error %q does not name store.Export", err)
	}
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("code %q for %v: a missing export is a 404", apperr.CodeOf(err), err)
	}
	// A method whose query is wrong (not the database being down) names
	// itself too: the organisation id is not a UUID.
	_, err = db.RoleIn(ctx, "not-a-uuid", domain.NewID())
	var pgErr *pgconn.PgError
	if err == nil || !strings.HasPrefix(err.Error(), "store.RoleIn: ") || !errors.As(err, &pgErr) {
		t.Errorf("error %v: want store.RoleIn: and the PostgreSQL error underneath", err)
	}
}
