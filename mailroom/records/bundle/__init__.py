"""The evidence bundle as a PDF: pure layout from a ``Bundle`` description to bytes,
in the conventions of an English court e-bundle (docs/records.md)."""
