"""ttrelay: a consent-aware relay from websites to TikTok's Events API 2.0."""

__version__ = "0.1.0"
