"""csv-insights: the library behind both Cloud Functions and the local pipeline."""

__version__ = "0.1.0"
