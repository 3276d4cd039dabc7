"""Running the vnguard CLI in-process for tests (Typer's CliRunner) and checking its error contract."""

from typer.testing import CliRunner

from classifier.cli import app

runner = CliRunner()


def invoke(*args, input=None):
    """Run ``vnguard ARGS`` in-process; arguments may be paths or numbers."""
    return runner.invoke(app, [str(a) for a in args], input=input)


def assert_clean_error(result, *fragments):
    """Exit status 1, no traceback, and every fragment in the printed output."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
