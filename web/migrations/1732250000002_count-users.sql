-- Up Migration
-- The number of rows of a table, kept by triggers in the transaction that changes the table, so
-- GET /users reads its total in O(1) instead of counting every row. The UPDATE takes the row's lock
-- and re-reads it after a concurrent writer commits: the count stays exact under any concurrency.
CREATE TABLE row_counts (
  table_name text PRIMARY KEY,
  total      bigint NOT NULL CHECK (total >= 0)
);

-- Statement-level, with the changed rows as a transition table: a bulk insert updates the count once.
CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE row_counts SET total = total + (SELECT count(*) FROM added) WHERE table_name = TG_TABLE_NAME;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE row_counts SET total = total - (SELECT count(*) FROM removed) WHERE table_name = TG_TABLE_NAME;
  ELSE
    UPDATE row_counts SET total = 0 WHERE table_name = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END
$$;

-- No insert or delete may slip in between the first count and the triggers.
LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO row_counts (table_name, total) SELECT 'users', count(*) FROM users;

CREATE TRIGGER users_count_inserts AFTER INSERT ON users
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION count_rows();
CREATE TRIGGER users_count_deletes AFTER DELETE ON users
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION count_rows();
CREATE TRIGGER users_count_truncates AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION count_rows();

-- Down Migration
DROP TRIGGER users_count_truncates ON users;
DROP TRIGGER users_count_deletes ON users;
DROP TRIGGER users_count_inserts ON users;
DROP TABLE row_counts;
DROP FUNCTION count_rows();
