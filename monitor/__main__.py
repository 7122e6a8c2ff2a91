"""``python -m monitor`` and the ``newsmonitor`` command: the command-line interface.

The command line is imported only when it runs. A parser process (monitor.parsepool)
re-imports the program that started the daemon, which is the ``newsmonitor`` script
importing this module: it must stay this light, or every worker would carry the
config models, SQLAlchemy and click for nothing.
"""


def main() -> None:
    """Entry point of the ``newsmonitor`` command."""
    from monitor.cli import main as run_cli

    run_cli()


if __name__ == "__main__":
    main()
