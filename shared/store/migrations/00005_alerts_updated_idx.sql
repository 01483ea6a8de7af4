-- +goose NO TRANSACTION
-- +goose Up
-- GET .../alerts?updated_since= (the cheap poll the API documents) had no index to use: no index
-- orders or bounds updated_at, so every poll read the organisation's whole alert history, and
-- the planner chose a parallel sequential scan of the whole table. Measured by `make bench`
-- (shared/api BenchmarkAlertList/updated-since, 100,000 alerts in the organisation, 200,000 in
-- the table): 5,573 buffers and ~45 ms of execution per poll that finds two alerts (p50 68 ms
-- through the handler), growing with history. With this index it is an index range scan of the
-- rows updated since: 5 buffers, p50 1.0 ms through the handler.
--
-- CONCURRENTLY (hence no transaction): ingest opens alerts, and a plain CREATE INDEX would block
-- its writes for the whole build on a large table. Should a build fail, it leaves an INVALID
-- index: drop it and migrate again (IF NOT EXISTS would keep the invalid one).
CREATE INDEX CONCURRENTLY alerts_org_updated_idx ON alerts (organization_id, updated_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS alerts_org_updated_idx;
