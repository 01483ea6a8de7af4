-- +goose Up
-- Voice pages (issue 17): a policy step's channels may include 'voice', a
-- phone call placed through Telnyx Call Control to the contact's phone.
--
-- A call's progress is call_state, forward only per row: queued -> calling
-- -> answered -> acknowledged | no_answer | busy | failed | voicemail. It is
-- set on voice rows only. status keeps its meaning for every channel
-- (pending, sending, sent = the call is under way, delivered = someone or a
-- voicemail heard it, failed, skipped), so the dispatcher, the rate limits
-- and the log treat a call like any other message.
--
-- A call nobody answered (no_answer, busy, voicemail) is placed again as a
-- new row, redial n+1, after redial_after_seconds while redials_left lasts:
-- each call is one row with its own forward-only states, and the
-- once-per-step key now includes redial.
ALTER TABLE notifications
    DROP CONSTRAINT notifications_channel_check,
    ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('sms', 'email', 'voice')),
    DROP CONSTRAINT notifications_recipient_format,
    ADD CONSTRAINT notifications_recipient_format CHECK (
        (channel IN ('sms', 'voice') AND recipient ~ '^\+[1-9][0-9]{1,14}$')
        OR (channel = 'email' AND position('@' IN recipient) > 1)),
    ADD COLUMN call_state text CHECK (call_state IN
        ('queued', 'calling', 'answered', 'acknowledged', 'no_answer', 'busy', 'failed', 'voicemail')),
    ADD CONSTRAINT notifications_call_state_voice CHECK ((call_state IS NOT NULL) = (channel = 'voice')),
    ADD COLUMN redial smallint NOT NULL DEFAULT 0 CHECK (redial >= 0),
    ADD COLUMN redials_left smallint NOT NULL DEFAULT 0 CHECK (redials_left >= 0),
    ADD COLUMN redial_after_seconds integer NOT NULL DEFAULT 0 CHECK (redial_after_seconds >= 0),
    DROP CONSTRAINT notifications_once_per_step_key,
    ADD CONSTRAINT notifications_once_per_step_key
        UNIQUE (alert_id, kind, escalation_step, recipient, channel, redial);

-- The contact's preference: never call this contact (SMS and e-mail still go).
ALTER TABLE escalation_contacts ADD COLUMN voice_opt_out boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE escalation_contacts DROP COLUMN voice_opt_out;
DELETE FROM notifications WHERE channel = 'voice';
ALTER TABLE notifications
    DROP CONSTRAINT notifications_once_per_step_key,
    ADD CONSTRAINT notifications_once_per_step_key UNIQUE (alert_id, kind, escalation_step, recipient, channel),
    DROP COLUMN redial_after_seconds,
    DROP COLUMN redials_left,
    DROP COLUMN redial,
    DROP CONSTRAINT notifications_call_state_voice,
    DROP COLUMN call_state,
    DROP CONSTRAINT notifications_recipient_format,
    ADD CONSTRAINT notifications_recipient_format CHECK (
        (channel = 'sms' AND recipient ~ '^\+[1-9][0-9]{1,14}$')
        OR (channel = 'email' AND position('@' IN recipient) > 1)),
    DROP CONSTRAINT notifications_channel_check,
    ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('sms', 'email'));
