"""The `.sla` language server (`slarules lsp`, pygls over stdio).

    vocab      keywords, built-in fields and their meanings, zones, holiday countries
    index      names from the parsed files: definitions, references, outline, schema values
    analysis   a ruleset snapshot: build the directory, diagnostics with ranges and related places
    complete   completion by position
    hover      hover texts (fields, levels, calendars, durations)
    server     the pygls server: wiring, debounced diagnostics, formatting, code actions

Only the public `slarules.dsl` API is used (build, parse, format_source, decode); positions are
code points inside this package and converted to the client's units at the edge (server.py).
"""
