"""CF Explorer: see collaborative filtering work."""

__version__ = "0.1.0"
