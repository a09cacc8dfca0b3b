"""Every place a fact can come from inside a sosreport: one module per source, one table of them.

Each module declares `MEMBERS` (the `Wanted` entries: path pattern, how the member is taken, an
example path) and `read(view) -> Readout`. `registry.SOURCES` lists the modules; the archive layer
is driven by `registry.SELECTION` and imports nothing from here. HACKING.md shows how to add one.
"""
