"""One reader per place a guest (or host fact) can come from inside a sosreport."""
