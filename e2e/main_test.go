// Package e2e runs the real function binaries: as processes started with a
// bad configuration, as local servers, and under the AWS Lambda Runtime
// Interface Emulator exactly as Lambda runs a provided.al2023 bootstrap.
package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/app"
)

// binDir holds one binary per function, built once for the whole package
// with the Lambda build flags (for the host architecture, so they run here).
var binDir string

// zoneinfo is the zone database the binaries are given, as on Lambda.
var zoneinfo string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "frostguard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := func() int {
		defer os.RemoveAll(dir)
		if err := buildAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// The binaries carry no zone database: like Lambda (template.yaml),
		// they read the toolchain's zoneinfo.zip named by ZONEINFO.
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go env GOROOT:", err)
			return 1
		}
		zoneinfo = filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip")
		return m.Run()
	}()
	os.Exit(code)
}

func buildAll(dir string) error {
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir + string(os.PathSeparator)}
	for _, f := range app.Functions {
		args = append(args, "../functions/"+f.Name)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the functions: %v\n%s", err, out)
	}
	return nil
}

func binary(name string) string { return filepath.Join(binDir, name) }

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t testing.TB) string { return freeAddrs(t, 1)[0] }

// freeAddrs returns n distinct such addresses: the listeners stay open until
// all are chosen, so the kernel cannot hand the same port out twice.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs[i] = ln.Addr().String()
	}
	return addrs
}

// env turns a map into an exec environment with nothing inherited, so a
// variable set in the developer's shell cannot make a test pass.
func env(m map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "ZONEINFO=" + zoneinfo}
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}
