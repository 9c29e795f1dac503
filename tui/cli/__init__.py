"""The ``capcon`` command line: the parser, one module per command family, Rich output."""
