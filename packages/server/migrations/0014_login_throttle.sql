-- Failed logins counted per account and per address, one row per counter, so that one upsert
-- records an attempt and answers the count: concurrent attempts queue on the row instead of all
-- reading the same count before any of them is written. A counter starts over once its window
-- has passed. The rows of login_failures (an address's recent failures) are only a few minutes'
-- worth of rate limiting and are not carried over.
DROP TABLE login_failures;

CREATE TABLE login_throttle (
  scope text NOT NULL CHECK (scope IN ('account', 'address')),
  subject text NOT NULL,
  attempts integer NOT NULL,
  window_start timestamptz NOT NULL,
  PRIMARY KEY (scope, subject)
);
CREATE INDEX login_throttle_window_idx ON login_throttle (window_start);
