-- +goose Up
-- Channel fallback (issue 17): an alarm message that fails for good (a
-- provider refusal, an undeliverable receipt, the ambiguous timeout, retries
-- exhausted, a call nobody answered after its redials) or is skipped because
-- the contact opted out of the channel is marked fallback_due in the same
-- transaction as the failure. The dispatcher then pages the same contact on
-- their next channel (notify/paging: sms -> email -> voice -> sms ...,
-- channels the step already used for that contact left out) and clears the
-- mark, with a 'fallback' line in the alert's history either way. The new
-- row names the row it replaces (fallback_of).
ALTER TABLE notifications
    ADD COLUMN fallback_due boolean NOT NULL DEFAULT false,
    ADD COLUMN fallback_of uuid REFERENCES notifications (id) ON DELETE SET NULL;

CREATE INDEX notifications_fallback_due_idx ON notifications (updated_at) WHERE fallback_due;

-- +goose Down
DROP INDEX notifications_fallback_due_idx;
ALTER TABLE notifications DROP COLUMN fallback_of, DROP COLUMN fallback_due;
