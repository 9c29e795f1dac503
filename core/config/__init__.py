"""Configuration: files → validated values (settings, prices, rules), declared once."""
