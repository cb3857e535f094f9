-- Up Migration
-- One row per label keeps the total readable in O(1); the log keeps one row per visit.
CREATE TABLE visit_counter (
  label      text PRIMARY KEY,
  total      bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE visits (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  label      text NOT NULL,
  visited_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

INSERT INTO visit_counter (label, total) VALUES ('homepage', 0);

-- Down Migration
DROP TABLE visits;
DROP TABLE visit_counter;
