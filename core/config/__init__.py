"""Configuration: files → validated values, declared once (schema), where they live (paths),
and what they hold (settings: config.toml; prices; rules)."""
