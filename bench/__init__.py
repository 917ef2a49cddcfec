"""`make bench`: speed and memory figures, printed as a table and saved as JSON."""
