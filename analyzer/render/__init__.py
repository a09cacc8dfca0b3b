"""Output formats: JSON, text and HTML. Rendering only: no analysis here."""
