"""The ORCA version, in a leaf module so every room can stamp it without import cycles."""

__version__ = "0.1.0"
