import sandbox


def test_the_public_surface_is_exactly_all():
    public = {name for name in vars(sandbox) if not name.startswith("_")}
    modules = {"config", "e2b", "local", "venv"}
    assert public - modules == set(sandbox.__all__)


def test_every_exception_derives_from_sandbox_error():
    for name in sandbox.__all__:
        obj = getattr(sandbox, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, sandbox.SandboxError)
