"""Publishing: episodes (tagged MP3s, chapters), transcripts, the two feeds and their extensions, the web pages."""
