"""Speech: the engine table and protocol, the espeak-ng engine and driver, voices, the lexicon, health text as said, pacing."""
