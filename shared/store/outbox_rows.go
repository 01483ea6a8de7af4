package store

import (
	"fmt"
	"time"
)

// Notifications of an alert are written by one INSERT ... SELECT FROM
// unnest(...) per statement (an opening, an escalation step): the rows
// travel as parallel arrays, and every such statement uses the columns and
// the row expression below, so a new column reaches every writer.

// outboxArrays is a batch of OutboxRows as parallel arrays.
type outboxArrays struct {
	contacts, recipients, channels, subjects, bodies []string
	redials, redialAfter                             []int32
}

func newOutboxArrays(rows []OutboxRow) outboxArrays {
	var a outboxArrays
	for _, n := range rows {
		a.contacts = append(a.contacts, n.ContactID)
		a.recipients = append(a.recipients, n.Recipient)
		a.channels = append(a.channels, n.Channel)
		a.subjects = append(a.subjects, n.Subject)
		a.bodies = append(a.bodies, n.Body)
		a.redials = append(a.redials, int32(max(n.Redials, 0)))
		a.redialAfter = append(a.redialAfter, int32(max(n.RedialAfter, 0)/time.Second))
	}
	return a
}

// args are the arrays in the order outboxUnnest names them.
func (a outboxArrays) args() []any {
	return []any{a.contacts, a.recipients, a.channels, a.subjects, a.bodies, a.redials, a.redialAfter}
}

// outboxUnnest is the FROM item of the arrays, the first at $first.
func outboxUnnest(first int) string {
	return fmt.Sprintf(`unnest($%d::text[], $%d::text[], $%d::text[], $%d::text[], $%d::text[], $%d::int[], $%d::int[])
		AS n(contact_id, recipient, channel, subject, body, redials, redial_after)`,
		first, first+1, first+2, first+3, first+4, first+5, first+6)
}

// outboxInsertColumns and outboxRowValues (after the caller's organisation,
// alert, kind and step values, and with the body expression given) insert
// one row of the arrays; a voice row starts queued.
const outboxInsertColumns = `organization_id, alert_id, kind, escalation_step, contact_id, recipient, channel, subject, body,
	call_state, redials_left, redial_after_seconds`

func outboxRowValues(body string) string {
	return `nullif(n.contact_id, '')::uuid, n.recipient, n.channel, nullif(n.subject, ''), ` + body + `,
		CASE WHEN n.channel = 'voice' THEN 'queued' END, n.redials, n.redial_after`
}
