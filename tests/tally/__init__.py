"""A module that exists to test the seam for tables and migrations: one table on a MetaData of
its own, and one migration in its own version location, the first of its branch."""
