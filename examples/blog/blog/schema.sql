-- Running this file wipes every account and post.
DROP TABLE IF EXISTS posts;
DROP TABLE IF EXISTS users;

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created TEXT NOT NULL DEFAULT (datetime('now')),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);

CREATE INDEX posts_by_created ON posts (created DESC, id DESC);
