-- «Москвёнок»'s meals: a school's buffet goods and the day's set meals (complexes), what a
-- parent stops the child from buying, and the buffet's sales. Money is in kopecks.

-- What the buffet sells, per school; a terminal sells by id. An item taken off sale stays
-- (sales name it) with active = 0.
CREATE TABLE buffet_items (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    name           TEXT NOT NULL,
    category       TEXT NOT NULL CHECK (category IN ('hot', 'bakery', 'dairy', 'drinks',
                                        'fruit', 'sweets', 'snacks')),
    price          INTEGER NOT NULL CHECK (price >= 0),
    active         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX buffet_items_by_school ON buffet_items(institution_id, active);

-- The day's complexes (set meals) of a school: breakfast, lunch, the after-school snack
-- (полдник), each with its price and dishes. A student the region's rules feed free gets the
-- complexes of their rule at no charge (config meals.free_*, meals.benefit_*).
CREATE TABLE meal_complexes (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    day            TEXT NOT NULL,                   -- YYYY-MM-DD
    kind           TEXT NOT NULL CHECK (kind IN ('breakfast', 'lunch', 'snack')),
    price          INTEGER NOT NULL CHECK (price >= 0),
    dishes         TEXT NOT NULL DEFAULT '[]',      -- JSON array of the dishes' names
    UNIQUE (institution_id, day, kind)
);

-- A parent's stop list: an item, or a whole category, the child may not buy.
CREATE TABLE meal_stoplist (
    student_id INTEGER NOT NULL REFERENCES persons(id),
    item_id    INTEGER REFERENCES buffet_items(id),
    category   TEXT,
    CHECK ((item_id IS NULL) != (category IS NULL))
);
CREATE UNIQUE INDEX meal_stoplist_items ON meal_stoplist(student_id, item_id)
    WHERE item_id IS NOT NULL;
CREATE UNIQUE INDEX meal_stoplist_categories ON meal_stoplist(student_id, category)
    WHERE category IS NOT NULL;

-- A buffet terminal's sale to a card: approved (and debited once, ledger kind 'sale') or
-- declined with its reason. `total` is what was debited; `free_value` what the free
-- complexes in it are worth at the menu's price. A refund credits `total` back once.
CREATE TABLE sales (
    id             INTEGER PRIMARY KEY,
    student_id     INTEGER REFERENCES persons(id),  -- NULL: an unknown card
    card_id        INTEGER REFERENCES cards(id),
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    device_id      INTEGER NOT NULL REFERENCES device_tokens(id),
    key            TEXT NOT NULL,                   -- the terminal's key of the sale
    at             INTEGER NOT NULL,                -- when it was sold (the terminal's time)
    day            TEXT NOT NULL,                   -- its day in the node's time zone
    status         TEXT NOT NULL CHECK (status IN ('approved', 'declined')),
    reason         TEXT,                            -- a declined sale's reason code
    total          INTEGER NOT NULL DEFAULT 0,
    free_value     INTEGER NOT NULL DEFAULT 0,
    offline        INTEGER NOT NULL DEFAULT 0,      -- sold while the terminal was offline
    refunded_at    INTEGER,
    refunded_by    INTEGER REFERENCES accounts(id),
    refund_reason  TEXT,
    UNIQUE (device_id, key)
);
CREATE INDEX sales_by_student ON sales(student_id, day);
CREATE INDEX sales_by_school_day ON sales(institution_id, day);

-- The lines of a sale: a buffet item or a complex, at the price of the moment.
CREATE TABLE sale_lines (
    sale_id    INTEGER NOT NULL REFERENCES sales(id),
    item_id    INTEGER REFERENCES buffet_items(id),
    complex_id INTEGER REFERENCES meal_complexes(id),
    name       TEXT NOT NULL,
    category   TEXT NOT NULL,                       -- an item's category, or the complex's kind
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    price      INTEGER NOT NULL,                    -- one unit's, kopecks
    free       INTEGER NOT NULL DEFAULT 0,          -- given free by the region's rules
    CHECK ((item_id IS NULL) != (complex_id IS NULL))
);
CREATE INDEX sale_lines_by_sale ON sale_lines(sale_id);
