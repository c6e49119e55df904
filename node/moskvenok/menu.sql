-- «Москвёнок»'s menu (meals.c): a day's complex that nothing was sold of may be removed from
-- the menu. Deleting a meal_complexes row makes SQLite look for sale lines that name it (their
-- foreign key), and meals.c asks the same before it removes one: without this index both would
-- read every sale line of the region.
CREATE INDEX sale_lines_by_complex ON sale_lines(complex_id) WHERE complex_id IS NOT NULL;
