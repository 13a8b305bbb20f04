-- Up Migration
-- People (UserUpserted), their memberships and pending invitations (MemberUpserted) and their
-- auth tokens (UserTokenUpserted), projected from the admin topic. A null-value record under an
-- entity's key deletes its row. Sessions are not here: they live in Redis with an expiry.
CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  password_hash text,
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE members (
  id text PRIMARY KEY,
  organization_slug text NOT NULL,
  user_id text,
  email text NOT NULL,
  role text NOT NULL,
  invite_token_hash text,
  invite_expires_at timestamptz,
  invited_by text,
  created_at timestamptz NOT NULL
);
CREATE INDEX members_organization ON members (organization_slug);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE user_tokens (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  user_id text NOT NULL,
  scopes text[] NOT NULL,
  label text NOT NULL,
  active boolean NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

-- Down Migration
DROP TABLE user_tokens;
DROP TABLE members;
DROP TABLE users;
