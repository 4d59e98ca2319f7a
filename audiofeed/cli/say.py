"""``audiofeed say``: hear and see how a text will be spoken before a build."""

from __future__ import annotations

from pathlib import Path

import click

from .common import engine_option, load_settings


@click.command("say")
@click.argument("text")
@click.option("--phonemes", is_flag=True, help="Also print the engine's phonemes for what is said (Piper: IPA; espeak-ng: its mnemonics).")
@click.option("-o", "--output", "mp3", type=click.Path(path_type=Path, dir_okay=False),
              help="Render it to this MP3 file, levelled as a build levels answers.")
@click.option("--voice", help="Voice for -o and --phonemes. [default: the first of the palette]")
@click.option("--rate", type=int, default=175, show_default=True,
              help="Pace for -o: words per minute for espeak-ng; for Piper, 175 is the voice's own pace "
                   "(its length scale is 175/RATE). Held to the engine's limits.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Configuration whose lexicon and [speech] settings apply. [default: audiofeed.toml here, if there]")
@click.option("--articles", type=click.Path(path_type=Path), default="articles", show_default=True,
              help="With no --config, the audiofeed.toml beside this folder applies.")
@engine_option("to speak with")
def say_command(text, phonemes, mp3, voice, rate, config_path, articles, engine):
    """Show how TEXT will be spoken: after the health-text normalization and your lexicon.

    Prints the text as the engine will get it. --phonemes adds the engine's phonemes, so you can
    see what it makes of units, ranges and abbreviations; -o renders it to an MP3 so you can
    listen before a build.

    \b
    Examples:
      audiofeed say "Take 2-4 mg b.i.d. if the fever is ≥ 38.5 °C."
      audiofeed say "Stage II, grade III" --phonemes
      audiofeed say "A 140/90 reading" -o sample.mp3 --voice joe+1.15
      audiofeed say "A 140/90 reading" -o draft.mp3 --engine espeak --voice gmw/en-gb-x-rp+f2
    """
    from ..speech.verbalize import to_speak
    from ..speech.lexicon import Lexicon
    from ..speech.engine import engine_for, engine_type

    config = load_settings(articles, config_path, engine)
    spoken, _ = to_speak(" ".join(text.split()), Lexicon(config.lexicon), config.normalize)
    if not any(c.isalnum() for c in spoken):
        raise click.ClickException(f"TEXT: nothing to say in {text!r} (no words); give the text to speak")
    click.echo(spoken)
    voice = voice or config.default_voice or engine_type(config.engine).palette()[0]
    if not phonemes and mp3 is None:
        return
    low, high = engine_type(config.engine).RATE_LIMITS
    if mp3 is not None and not low <= rate <= high:  # before the engine starts
        raise click.BadParameter(f"{rate} is outside {engine_type(config.engine).NAME}'s range {low}-{high}",
                                 param_hint="--rate")
    engine = engine_for(config.engine)
    if not engine.known(voice, set(engine.voices())):
        raise click.BadParameter(f"unknown {engine.NAME} voice {voice!r} (ids look like {engine.VOICE_EXAMPLE})",
                                 param_hint="--voice")
    if phonemes:
        click.echo(engine.phonemes(spoken, voice))
    if mp3 is not None:
        from ..build.rendering import level_and_encode
        from ..storage import atomic_write

        try:
            speech = engine.speak(spoken, voice, rate)
        except ValueError as e:  # an engine that finds nothing it can say in the text
            raise click.ClickException(f"TEXT: {e}") from None
        try:
            atomic_write(mp3, level_and_encode(speech.samples, speech.sample_rate)[0])
        except OSError as e:
            raise click.ClickException(f"{mp3}: cannot write: {e.strerror}") from None
        click.echo(f"wrote {mp3} ({speech.seconds:.1f} s, {voice}, {rate} wpm)", err=True)


