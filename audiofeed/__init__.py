"""audiofeed: health Q&A pages in, podcast feeds whose durations match the listed runtimes out."""

__version__ = "0.1.0"
