package app

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/frostguard/functions"

// importGraph maps each package of the module to the module packages its
// non-test files import, read from the source with go/parser.
func importGraph(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := module + "/" + filepath.ToSlash(rel)
		graph[pkg] = append(graph[pkg], []string{}...)
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if strings.HasPrefix(p, module+"/") && !slices.Contains(graph[pkg], p) {
				graph[pkg] = append(graph[pkg], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

// dependsOn reports whether pkg imports target, directly or not.
func dependsOn(graph map[string][]string, pkg, target string, seen map[string]bool) bool {
	if seen[pkg] {
		return false
	}
	seen[pkg] = true
	for _, imp := range graph[pkg] {
		if imp == target || dependsOn(graph, imp, target, seen) {
			return true
		}
	}
	return false
}

// The api is a flow: the functions that serve org-scoped routes besides it
// (stripe-checkout) guard them through shared/orgroute, never by importing
// the api, whose routes would then all be linked into their binaries.
func TestOnlyTheApiFunctionsImportTheApi(t *testing.T) {
	graph := importGraph(t, filepath.Join("..", ".."))
	api := module + "/shared/api"
	allowed := map[string]bool{
		module + "/shared/fn/apifn":     true, // the api function
		module + "/shared/fn/reportsfn": true, // the reports function serves the api's report routes
		module + "/functions/api":       true,
		module + "/functions/reports":   true,
		module + "/shared/app":          true, // the whole collection in one process (make dev)
		module + "/cmd/frostguard":      true, // its command line
	}
	if len(graph) < 20 {
		t.Fatalf("read only %d packages", len(graph))
	}
	for pkg := range graph {
		if pkg == api || allowed[pkg] {
			continue
		}
		if dependsOn(graph, pkg, api, map[string]bool{}) {
			t.Errorf("%s depends on shared/api", strings.TrimPrefix(pkg, module+"/"))
		}
	}
}
