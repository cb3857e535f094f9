-- Up Migration
-- One row per committed batch of visits, written in the batch's own transaction. When the
-- connection breaks after a batch was sent, the service cannot know from the broken connection
-- whether the commit happened; once PostgreSQL answers again, this row tells. Rows are only needed
-- for that short while: the service deletes them after a few minutes.
CREATE TABLE visit_receipts (
  id          uuid PRIMARY KEY,
  total       bigint NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX visit_receipts_recorded_at ON visit_receipts (recorded_at);

-- Down Migration
DROP TABLE visit_receipts;
