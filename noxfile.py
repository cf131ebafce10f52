"""Project tasks: `nox -s tests`, `nox -s lint`, `nox -s typecheck`."""

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

# Everything the tests exercise: gantool with its training extra and the plugin packages.
LOCAL_PACKAGES = ["-e", ".[train,test]", "-e", "tests/plugin_pkg", "-e", "plugins/gantool-dcgan", "-e", "plugins/gantool-losses"]


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, against real torch, real entry points and real onnxruntime; pytest's testpaths
    include plugins/*/tests, so the plugin packages' own tests run too."""
    session.install(*LOCAL_PACKAGES)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("mypy>=1.10", "-e", ".[train]")
    session.run("mypy")
