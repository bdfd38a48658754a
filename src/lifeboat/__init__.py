"""lifeboat: business continuity for cloud contact centers."""

__version__ = "0.1.0"
