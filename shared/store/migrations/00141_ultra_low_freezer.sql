-- +goose Up
-- Ultra-low freezers (-80 °C: vaccines, pharma, labs) are a unit type of their own: their
-- readings are plausible down to -100 °C (alerting.PlausibleRange), a fridge's are not.
ALTER TABLE units DROP CONSTRAINT units_type_check;
ALTER TABLE units ADD CONSTRAINT units_type_check CHECK (type IN
    ('fridge', 'freezer', 'display_case', 'walk_in_cooler', 'walk_in_freezer', 'blast_chiller',
     'ultra_low_freezer', 'other'));

-- +goose Down
UPDATE units SET type = 'other' WHERE type = 'ultra_low_freezer';
ALTER TABLE units DROP CONSTRAINT units_type_check;
ALTER TABLE units ADD CONSTRAINT units_type_check CHECK (type IN
    ('fridge', 'freezer', 'display_case', 'walk_in_cooler', 'walk_in_freezer', 'blast_chiller', 'other'));
