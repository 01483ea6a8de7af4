-- Issue 18: an uplink no longer holds a transaction (and the unit's row lock) while the function
-- decodes and judges. It reads the unit without a lock, then writes everything in one round trip
-- whose first statement locks the unit and checks it is still the row it read (its xmin), and
-- whose reading insert is its own dedupe (the reading's key (sensor_id, recorded_at)). This
-- function is how such a statement stops the round trip: it raises the given SQLSTATE, which
-- aborts the transaction and skips every statement after it in the pipeline.
--   FGCON: the unit changed since it was read (retry: read and judge again)
--   FGDUP: the uplink is already stored (a duplicate delivery)

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION uplink_assert(ok boolean, code text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'uplink: %', CASE code WHEN 'FGCON' THEN 'the unit changed since it was read'
            WHEN 'FGDUP' THEN 'already stored' ELSE code END USING ERRCODE = code;
    END IF;
    RETURN true;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION uplink_assert(boolean, text);
