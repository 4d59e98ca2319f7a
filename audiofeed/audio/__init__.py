"""Audio: fitting speech to its runtime, levelling loudness, encoding MP3 frames, tagging, ffmpeg."""
