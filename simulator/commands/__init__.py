"""One module per ``simulate`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``."""
