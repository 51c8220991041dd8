from tests.livejam.conftest import Rig, rig, tiny_model  # noqa: F401  (fixtures: an engine on a fake clock)
