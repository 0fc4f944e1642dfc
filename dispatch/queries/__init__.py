"""Read queries over the projection tables (never folding streams on the hot path)."""
