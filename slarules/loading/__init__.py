"""`slarules load`: tickets and events from files into a server or a database (docs/loading.md).

`sources` reads files into items in the GraphQL input shape, `loader` sends
them in batches to a `Sink` (`sinks`: GraphQL over HTTP; `inprocess`: the
same app built in this process on a database), `demo` makes the bundled
fixtures current for `serve --demo`.
"""
