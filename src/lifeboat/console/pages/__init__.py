"""One module per console page; each exposes ``router`` (built on ``web.ConsoleRoute``)."""
