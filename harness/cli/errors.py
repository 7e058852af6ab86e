"""The one exception a CLI handler raises to stop with a clear one-line reason and an exit status."""


class CliError(Exception):
    """A usage or input error: printed as ``dcc-recette <command>: <reason>``, exit status 2 unless said."""

    def __init__(self, message: str, exit_status: int = 2) -> None:
        super().__init__(message)
        self.exit_status = exit_status
