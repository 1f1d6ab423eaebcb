"""``mailtui`` and ``python -m mailtui``: the command line, with garbage collection paused
while the program starts (``memory.pause_collections`` says why)."""

from mailtui import memory


def main() -> int:
    memory.pause_collections()
    from mailtui.cli import main as cli_main  # after the pause: its imports are start-up

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
