package store

import (
	"fmt"
	"strings"
)

// wrap prefixes a failed method's error with the method's name, in the
// manner of golang/pkgsite's derrors.Wrap: every exported method of DB and
// of the transaction types starts with `defer wrap(&err, "store.Name")`, so
// a 5xx log line says which query failed. %w keeps the error itself:
// errors.Is/As, apperr.CodeOf (not found, conflict, 503) and pgx's
// sentinels see through it. An error that already starts with the name is
// left alone (a method that returns through itself names itself once).
// TestEveryStoreMethodNamesItsErrors keeps the rule.
func wrap(errp *error, method string) {
	if *errp == nil || strings.HasPrefix((*errp).Error(), method+": ") {
		return
	}
	*errp = fmt.Errorf("%s: %w", method, *errp)
}
