"""Command-line interface: ``tfraw`` and ``tfraw-train``."""
