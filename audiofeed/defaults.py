"""Defaults the command line shows in ``--help`` and the configuration checks, kept apart from the
stages that use them so that reading them loads no audio library."""

RATE_BAND = (100, 240)  # natural speaking rates, espeak-ng words per minute
TOLERANCE_MS = 12.0  # audiofeed check: the largest difference from a listed runtime it passes (half an MP3 frame: the build's promise)
MAX_TOLERANCE_MS = 1000.0  # a tolerance beyond a second checks nothing; nan and inf are refused
IDLE_TIMEOUT = 20.0  # audiofeed serve: seconds a connection may take to send a request, or idle between requests
BITRATES_KBPS = (64, 96, 128)  # MP3 bit rates offered (audio.encoding checks its frame arithmetic at each)
BITRATE_KBPS = 64  # the default: above Apple's 32 kbit/s minimum for mono MP3
