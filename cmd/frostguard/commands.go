package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/devstack"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/store/migrations"
)

// devDir holds the dev stack's generated secrets and seed.json.
var devDir = envOr("FROSTGUARD_DEV_DIR", ".dev")

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func databaseURL() (string, error) {
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		return "", errors.New("DATABASE_URL is required but not set")
	}
	return u, nil
}

func cmdMigrate(args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ExitOnError)
	downTo := fs.Int64("down-to", -1, "roll back to this version instead (0 = empty)")
	_ = fs.Parse(args)
	dsn, err := databaseURL()
	if err != nil {
		return err
	}
	ctx := context.Background()
	var res []migrations.MigrationResult
	if *downTo >= 0 {
		res, err = migrations.MigrateDownTo(ctx, dsn, *downTo)
	} else {
		res, err = migrations.Migrate(ctx, dsn)
	}
	for _, r := range res {
		fmt.Printf("migrated %d %s\n", r.Version, r.Source)
	}
	if err == nil && len(res) == 0 {
		fmt.Println("schema is up to date")
	}
	return err
}

func cmdSeed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	out := fs.String("out", devDir+"/seed.json", "where to write the seed description")
	base := fs.String("base-url", "http://127.0.0.1:"+envOr("PORT", "3000"), "the local server's URL, recorded in seed.json")
	_ = fs.Parse(args)
	return seed(context.Background(), *base, *out)
}

func seed(ctx context.Context, baseURL, out string) error {
	dsn, err := databaseURL()
	if err != nil {
		return err
	}
	secrets, err := devstack.LoadSecrets(devDir)
	if err != nil {
		return err
	}
	db, err := store.Open(dsn, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	env := devstack.Environment(environ(), secrets, baseURL)
	file, err := devstack.Seed(ctx, db, secrets, devstack.SeedOptions{BaseURL: baseURL, Environment: env})
	if err != nil {
		return err
	}
	if err := file.Write(out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded the demo organisations; wrote %s\n", out)
	return nil
}

func cmdServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:"+envOr("PORT", "3000"), "listen address")
	_ = fs.Parse(args)
	return serve(host.SignalContext(), *addr)
}

func cmdDev(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:"+envOr("PORT", "3000"), "listen address")
	_ = fs.Parse(args)
	if err := cmdMigrate(nil); err != nil {
		return err
	}
	if err := seed(context.Background(), "http://"+*addr, devDir+"/seed.json"); err != nil {
		return err
	}
	return serve(host.SignalContext(), *addr)
}

// serve runs every function behind one port, with the dev JWKS the dev
// tokens verify against and the sweeper on its one-minute schedule.
func serve(ctx context.Context, addr string) error {
	logging.Setup("local", slog.LevelInfo)
	// The same EMF metric lines the functions print in AWS, in this log.
	metrics.SetupStdout("local", "dev")
	secrets, err := devstack.LoadSecrets(devDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	baseURL := "http://" + ln.Addr().String()
	jwks, err := secrets.Signer.JWKS()
	if err != nil {
		return err
	}
	local, err := app.NewLocal(devstack.Environment(environ(), secrets, baseURL), map[string]http.Handler{
		"GET /.well-known/jwks.json": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(jwks)
		}),
	})
	if err != nil {
		return err
	}
	local.RunJobs(ctx)
	return host.Serve(ctx, ln, local.Handler)
}

func cmdToken(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	sub := fs.String("sub", devstack.OwnerA.Subject, "user id (Stack Auth sub)")
	email := fs.String("email", devstack.OwnerA.Email, "email claim")
	name := fs.String("name", devstack.OwnerA.Name, "name claim")
	ttl := fs.Duration("ttl", 24*time.Hour, "validity")
	_ = fs.Parse(args)
	secrets, err := devstack.LoadSecrets(devDir)
	if err != nil {
		return err
	}
	tok, err := secrets.Signer.Mint(auth.Identity{Subject: *sub, Email: *email, Name: *name}, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func cmdInvoke(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: frostguard invoke FUNCTION EVENT.json")
	}
	event, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	secrets, err := devstack.LoadSecrets(devDir)
	if err != nil {
		return err
	}
	logging.Setup(args[0], slog.LevelInfo)
	built, err := app.Build(args[0], devstack.Environment(environ(), secrets, "http://127.0.0.1:"+envOr("PORT", "3000")))
	if err != nil {
		return err
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "local-invoke"})
	out, err := built.LambdaHandler().Invoke(ctx, event)
	if err != nil {
		return fmt.Errorf("the handler failed: %w", err)
	}
	var pretty json.RawMessage = out
	b, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Println(string(b))
	return nil
}
