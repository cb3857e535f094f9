-- Up Migration
CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username   text NOT NULL CHECK (char_length(username) BETWEEN 1 AND 50),
  email      text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Case-insensitive: "Ana" and "ana" are the same person to a human reader.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- The ten sample users the course write-ups list from PostgreSQL.
INSERT INTO users (username, email) VALUES
  ('ana.silva',       'ana.silva@example.com'),
  ('bruno.souza',     'bruno.souza@example.com'),
  ('carla.oliveira',  'carla.oliveira@example.com'),
  ('diego.santos',    'diego.santos@example.com'),
  ('elisa.pereira',   'elisa.pereira@example.com'),
  ('felipe.costa',    'felipe.costa@example.com'),
  ('gabriela.lima',   'gabriela.lima@example.com'),
  ('henrique.rocha',  'henrique.rocha@example.com'),
  ('isabela.martins', 'isabela.martins@example.com'),
  ('joao.almeida',    'joao.almeida@example.com');

-- Down Migration
DROP TABLE users;
