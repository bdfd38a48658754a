"""The demo and benchmark contact center: generated as bulk-load drafts (``profile``,
``scripts``) and loaded into a primary tenant paired with an empty BCP tenant (``center``).

A client of the services, like the command line: nothing in ``services`` imports it.
"""
