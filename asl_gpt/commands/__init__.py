"""One module per `asl-gpt` subcommand: `add_arguments(parser)` and `run(args, settings) -> int`."""
