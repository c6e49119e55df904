-- Days off of each academic year (migration 24): no lessons are generated on them. A year's
-- list starts as the region's configuration (school_year.holidays, month-day pairs) when the
-- year is made, or at the first start after it was made by other means (an import), and the
-- region admin corrects it from then on; the configuration no longer touches a listed year.

CREATE TABLE holidays (
    id       INTEGER PRIMARY KEY,
    year_id  INTEGER NOT NULL REFERENCES academic_years(id) ON DELETE CASCADE,
    date     TEXT NOT NULL,                     -- YYYY-MM-DD, inside the year
    name     TEXT NOT NULL DEFAULT '',          -- «День народного единства», may be empty
    UNIQUE (year_id, date)
);

-- The years whose list was made (from the configuration, then edited): a year missing here
-- still follows the configuration.
CREATE TABLE holiday_years (
    year_id  INTEGER PRIMARY KEY REFERENCES academic_years(id) ON DELETE CASCADE
);
