"""A module that exists to test the seam for tables, migrations and state-leaf kinds: one table
on a MetaData of its own, one migration in its own version location, the first of its branch,
one operation that writes the table and one leaf kind over it."""
