// Command frostguard is the developer's tool: migrations, the demo seed, the
// one-port local server, dev tokens and in-process Lambda invocations.
//
//	frostguard migrate [-down-to N]
//	frostguard seed    [-out .dev/seed.json] [-base-url URL]
//	frostguard serve   [-addr 127.0.0.1:3000]
//	frostguard dev     [-addr 127.0.0.1:3000]   migrate + seed + serve
//	frostguard token   [-sub ID] [-email E] [-name N] [-ttl 24h]
//	frostguard invoke  FUNCTION EVENT.json
//	frostguard import-origin -from URL [-org ID ...] [-dry-run] [-report FILE]
package main

import (
	"fmt"
	"os"
)

const usage = `usage: frostguard <command> [flags]

commands:
  migrate   apply the embedded database migrations (DATABASE_URL)
  seed      create the demo organisations and write .dev/seed.json
  serve     serve every function on one port, like the HTTP API
  dev       migrate, seed and serve (what "make dev" runs)
  token     print a dev JWT signed by the local key
  invoke    run a function's Lambda handler on an event file, like "sam local invoke -e"
  import-origin  import organisations from the origin's database (docs/MIGRATION.md)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	commands := map[string]func([]string) error{
		"migrate":       cmdMigrate,
		"seed":          cmdSeed,
		"serve":         cmdServe,
		"dev":           cmdDev,
		"token":         cmdToken,
		"invoke":        cmdInvoke,
		"import-origin": cmdImportOrigin,
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "frostguard: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "frostguard %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
