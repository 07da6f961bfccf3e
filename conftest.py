"""In-repo runs: the hil pytest plugin is loaded from its pytest11 entry point
once the package is installed (make setup); this file makes it active even
when running from a checkout without `pip install -e .`."""
import importlib.metadata

_installed = any(ep.name == "hil" for ep in importlib.metadata.entry_points(group="pytest11"))
pytest_plugins = [] if _installed else ["hil.pytest_plugin"]


if not _installed:
    def pytest_addoption(parser):
        # the plugin's alias hook cannot run for a plugin registered from here
        from hil.pytest_plugin import add_aliases
        add_aliases(parser)
