"""analyze-sos-fleet."""
