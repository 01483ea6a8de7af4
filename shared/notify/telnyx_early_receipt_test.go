package notify

import (
	"context"
	"testing"
	"time"
)

// TestTelnyxReceiptThatOvertakesTheDispatcher: Telnyx answers the send, and
// its message.finalized reaches us before the dispatcher has written the
// message id. The receipt is held, a later and lesser one (message.sent)
// does not replace it, and storing the id applies it: the SMS reads
// delivered, not "sent" forever (the old system's lost receipts).
func TestTelnyxReceiptThatOvertakesTheDispatcher(t *testing.T) {
	e := newTelnyxEnv(t)
	ctx := context.Background()
	id := e.notification("", "sending")

	e.post(e.receipt("message_finalized_delivered.json", "ev-early-final", "msg-early"), "unknown_message")
	e.post(e.receipt("message_sent.json", "ev-early-sent", "msg-early"), "unknown_message")
	if got := e.scalar(`SELECT outcome FROM telnyx_early_receipts WHERE provider_message_id = 'msg-early'`); got != "delivered" {
		t.Fatalf("held outcome %q, want delivered (a lesser receipt must not replace it)", got)
	}

	ok, err := e.db.MarkOutboxSent(ctx, id, 1, "telnyx", "msg-early", time.Now())
	if err != nil || !ok {
		t.Fatalf("MarkOutboxSent = %v, %v", ok, err)
	}
	r := e.row(id)
	if r.Status != "delivered" || r.DeliveredAt == nil || r.SentAt == nil {
		t.Fatalf("after the id was stored: %+v, want delivered", r)
	}
	if n := e.count(`SELECT count(*) FROM telnyx_early_receipts`); n != 0 {
		t.Errorf("%d held receipts left after they were applied", n)
	}
	// The receipt's redelivery is still a duplicate.
	e.post(e.receipt("message_finalized_delivered.json", "ev-early-final", "msg-early"), "duplicate")

	// A failure overtaking the dispatcher keeps its reason.
	failed := e.notification("", "sending")
	e.post(e.receipt("message_finalized_failed.json", "ev-early-failed", "msg-early-2"), "unknown_message")
	if ok, err := e.db.MarkOutboxSent(ctx, failed, 1, "telnyx", "msg-early-2", time.Now()); err != nil || !ok {
		t.Fatalf("MarkOutboxSent = %v, %v", ok, err)
	}
	if r := e.row(failed); r.Status != "failed" || r.LastError == "" {
		t.Fatalf("failed receipt applied as %+v", r)
	}

	// Receipts of messages without an outbox row (HELP/ACK replies) go with
	// the dedupe keys.
	e.post(e.receipt("message_finalized_delivered.json", "ev-reply", "msg-reply"), "unknown_message")
	if _, _, err := e.db.PruneDedupe(ctx, time.Now().Add(time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM telnyx_early_receipts`); n != 0 {
		t.Errorf("%d held receipts survived pruning", n)
	}
}
