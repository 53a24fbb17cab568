"""The `famplan` command."""


def main() -> None:
    """Run the `famplan` command."""
