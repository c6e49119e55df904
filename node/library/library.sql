-- The library: what teachers use in lessons (PRODUCT.md section 3 item 7). Schema version 11.
-- node/library/library.c holds its routes, stem.c the full-text tokenizer; the files of an
-- item are bodies in blobs (node/files/).

-- An item. Its life: a teacher's draft, submitted, approved or rejected by the region's
-- methodologist (a rejected item goes back to its author); items from the hub arrive
-- approved and read-only.
CREATE TABLE library_items (
    id             INTEGER PRIMARY KEY,
    uid            TEXT NOT NULL UNIQUE,  -- stable across nodes: the hub's own, or 'rCODE-ID'
    type           TEXT NOT NULL CHECK (type IN ('scenario', 'test', 'textbook', 'workbook',
                                                 'fiction', 'lab', 'app', 'media')),
    title          TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description    TEXT NOT NULL DEFAULT '',
    body           TEXT NOT NULL DEFAULT '',  -- the text: a lesson scenario, a summary
    subject_id     INTEGER REFERENCES subjects(id),
    grade_min      INTEGER NOT NULL CHECK (grade_min BETWEEN 1 AND 11),
    grade_max      INTEGER NOT NULL CHECK (grade_max BETWEEN 1 AND 11),
    authors        TEXT NOT NULL DEFAULT '',
    licence        TEXT NOT NULL DEFAULT 'CC BY 4.0',
    language       TEXT NOT NULL DEFAULT 'ru',
    origin         TEXT NOT NULL CHECK (origin IN ('hub', 'region', 'school')),
    institution_id INTEGER REFERENCES institutions(id),  -- the author's school
    author_id      INTEGER REFERENCES persons(id),       -- NULL for the hub's items
    version        INTEGER NOT NULL DEFAULT 1,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
    cover_blob_id  INTEGER REFERENCES blobs(id),
    review_comment TEXT NOT NULL DEFAULT '',
    reviewed_by    INTEGER REFERENCES persons(id),
    reviewed_at    INTEGER,
    uses           INTEGER NOT NULL DEFAULT 0,           -- times attached to lessons and homework
    created_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    CHECK (grade_min <= grade_max)
);
CREATE INDEX library_items_browse ON library_items(status, subject_id, type);
CREATE INDEX library_items_newest ON library_items(status, updated_at);
CREATE INDEX library_items_by_author ON library_items(author_id, status);

-- The files an item is made of (a textbook's PDF, a media element's video).
CREATE TABLE library_files (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES library_items(id) ON DELETE CASCADE,
    name    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type    TEXT NOT NULL,
    blob_id INTEGER NOT NULL REFERENCES blobs(id),
    UNIQUE (item_id, name)
);
CREATE INDEX library_files_by_blob ON library_files(blob_id);

-- The questions of a test item. `answer` is the key: it never leaves the server; attempts are
-- scored here.
CREATE TABLE library_questions (
    id       INTEGER PRIMARY KEY,
    item_id  INTEGER NOT NULL REFERENCES library_items(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('single', 'multiple', 'text')),
    prompt   TEXT NOT NULL,
    options  TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings (single, multiple)
    answer   TEXT NOT NULL,               -- JSON: option indexes, or accepted texts
    points   INTEGER NOT NULL DEFAULT 1 CHECK (points BETWEEN 1 AND 100),
    UNIQUE (item_id, position)
);

CREATE TABLE library_attempts (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES library_items(id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES persons(id),
    score      INTEGER NOT NULL,
    max_score  INTEGER NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX library_attempts_by_person ON library_attempts(person_id, item_id);

CREATE TABLE library_favourites (
    person_id  INTEGER NOT NULL REFERENCES persons(id),
    item_id    INTEGER NOT NULL REFERENCES library_items(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (person_id, item_id)
) WITHOUT ROWID;

-- Items attached to a lesson or a homework (the journal and the diary show them).
CREATE TABLE lesson_items (
    lesson_id INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    item_id   INTEGER NOT NULL REFERENCES library_items(id),
    added_by  INTEGER NOT NULL REFERENCES persons(id),
    added_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (lesson_id, item_id)
) WITHOUT ROWID;
CREATE INDEX lesson_items_by_item ON lesson_items(item_id);
CREATE TABLE homework_items (
    homework_id INTEGER NOT NULL REFERENCES homework(id) ON DELETE CASCADE,
    item_id     INTEGER NOT NULL REFERENCES library_items(id),
    added_by    INTEGER NOT NULL REFERENCES persons(id),
    added_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (homework_id, item_id)
) WITHOUT ROWID;
CREATE INDEX homework_items_by_item ON homework_items(item_id);

-- Full-text search over the items, with Russian and English stems (stem.c).
CREATE VIRTUAL TABLE library_fts USING fts5(title, description, authors, body,
    content = 'library_items', content_rowid = 'id', tokenize = 'mes_stem');
-- The rank of a match: BM25 with the title weighted 10, the description 4, the authors 2 and
-- the text 1.
INSERT INTO library_fts (library_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 2.0, 1.0)');
CREATE TRIGGER library_items_fts_ins AFTER INSERT ON library_items BEGIN
    INSERT INTO library_fts (rowid, title, description, authors, body)
        VALUES (NEW.id, NEW.title, NEW.description, NEW.authors, NEW.body);
END;
CREATE TRIGGER library_items_fts_del AFTER DELETE ON library_items BEGIN
    INSERT INTO library_fts (library_fts, rowid, title, description, authors, body)
        VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.authors, OLD.body);
END;
CREATE TRIGGER library_items_fts_upd AFTER UPDATE OF title, description, authors, body
    ON library_items BEGIN
    INSERT INTO library_fts (library_fts, rowid, title, description, authors, body)
        VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.authors, OLD.body);
    INSERT INTO library_fts (rowid, title, description, authors, body)
        VALUES (NEW.id, NEW.title, NEW.description, NEW.authors, NEW.body);
END;

-- The diary and the journal grid list a lesson's items (node/cache/cache.sql).
CREATE TRIGGER lesson_items_cache_ins AFTER INSERT ON lesson_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons
        WHERE id = NEW.lesson_id ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER lesson_items_cache_del AFTER DELETE ON lesson_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons
        WHERE id = OLD.lesson_id ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_items_cache_ins AFTER INSERT ON homework_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h
        JOIN lessons l ON l.id = h.lesson_id WHERE h.id = NEW.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_items_cache_del AFTER DELETE ON homework_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h
        JOIN lessons l ON l.id = h.lesson_id WHERE h.id = OLD.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- Searches are kept in the read cache too, under scope -1: any change to an item or its files.
CREATE TRIGGER library_items_search_ins AFTER INSERT ON library_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT -1, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER library_items_search_upd AFTER UPDATE ON library_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT -1, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER library_items_search_del AFTER DELETE ON library_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT -1, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER library_files_search_ins AFTER INSERT ON library_files BEGIN
    INSERT INTO change_counters (scope, gen) SELECT -1, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER library_files_search_upd AFTER UPDATE ON library_files BEGIN
    INSERT INTO change_counters (scope, gen) SELECT -1, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER library_files_search_del AFTER DELETE ON library_files BEGIN
    INSERT INTO change_counters (scope, gen) SELECT -1, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER library_items_cache_upd AFTER UPDATE OF title, type ON library_items BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
