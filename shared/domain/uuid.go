package domain

import "regexp"

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s is a UUID in its canonical text form (any case):
// what every id of ours and every Stack Auth user id is. Anything else must
// not reach a uuid-typed SQL parameter (a 500) nor name a user.
func IsUUID(s string) bool { return uuidPattern.MatchString(s) }
