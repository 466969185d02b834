"""Small utilities every part of the product shares and that import nothing of it: user
errors (`errors`), owner-only files written whole (`safefiles`), the run directory's
protocol (`runfiles`), where the database is (`dburl`) and logging (`applog`)."""
