"""One module per `asl-gpt` subcommand: `add_arguments(parser)` and `run(args, settings) -> int`."""

from asl_gpt.config import add_model_argument


def add_reading_arguments(p) -> None:
    """--model, --min-confidence and --profile: how `recognize` and `live` read a signer."""
    add_model_argument(p)
    p.add_argument("--min-confidence", type=float, help="confidence threshold (default: the model's)")
    p.add_argument("--profile", help="your calibration profile: a name (asl-gpt calibrate --profile NAME) or a file")


def read_with_profile(rec, args, settings):
    """The recognizer `--profile` asks for; a profile that cannot be used is one warning line on stderr and the
    shipped model reads."""
    import sys

    from asl_gpt.recognition.recognizer import with_profile_setting

    out, problem = with_profile_setting(rec, args.profile, settings.paths.state_dir)
    if problem:
        print(f"warning: {problem}", file=sys.stderr)
    return out
