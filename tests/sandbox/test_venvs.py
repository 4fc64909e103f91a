"""Tool venvs: the configured exec venv and cached venvs for a tool's pip_requirements."""

import dataclasses
import logging
import subprocess
import sys
import zipfile
from pathlib import Path

import anyio
import pytest

from sandbox import LocalSandbox, SandboxRequest, recreate_venv

pytestmark = pytest.mark.anyio

TOOL = "import tinypkg, sys\ndef probe():\n    return [tinypkg.VALUE, sys.prefix]\n"


def build_wheel(directory: Path, value: int = 42) -> Path:
    """A minimal pure-Python wheel, so installing it needs no network."""
    path = directory / "tinypkg-0.1-py3-none-any.whl"
    info = "tinypkg-0.1.dist-info"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr("tinypkg/__init__.py", f"VALUE = {value}\n")
        whl.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n")
        whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{info}/RECORD", "")
    return path


async def test_pip_requirements_run_in_a_cached_venv(local_config, tmp_path):
    wheel = build_wheel(tmp_path)
    async with LocalSandbox(local_config) as sb:
        plain = await sb.run(SandboxRequest(source_code=TOOL))
        first = await sb.run(SandboxRequest(source_code=TOOL, pip_requirements=[str(wheel)]))
        second = await sb.run(SandboxRequest(source_code=TOOL, pip_requirements=[str(wheel)]))
    assert plain.status == "error" and "No module named 'tinypkg'" in plain.error
    assert first.status == "success", first
    assert first.func_return[0] == 42
    assert first.func_return[1].startswith(str(local_config.venv_cache_dir))
    assert second.func_return == first.func_return  # same cached venv
    assert len([p for p in local_config.venv_cache_dir.iterdir() if p.is_dir()]) == 1  # (and its build lock file)


async def test_an_uninstallable_requirement_is_an_error_result(local_config, tmp_path):
    async with LocalSandbox(local_config) as sb:
        result = await sb.run(
            SandboxRequest(source_code=TOOL, pip_requirements=[str(tmp_path / "missing-0.1-py3-none-any.whl")])
        )
    assert result.status == "error"
    assert result.error.startswith("Could not install the tool's pip_requirements")


async def test_the_exec_venv_is_created_at_start_up_and_can_be_recreated(local_config, tmp_path, caplog):
    exec_dir = tmp_path / "exec"
    exec_dir.mkdir()
    wheel = build_wheel(tmp_path)
    (exec_dir / "requirements.txt").write_text(f"# tools\n{wheel}\n")
    config = dataclasses.replace(local_config, exec_dir=exec_dir, venv_name="tools-venv", use_venv=True)
    with caplog.at_level(logging.INFO, logger="sandbox"):
        async with LocalSandbox(config) as sb:
            result = await sb.run(SandboxRequest(source_code=TOOL + "import os\ndef cwd():\n    return os.getcwd()\n", function_name="probe"))
            cwd = await sb.run(SandboxRequest(source_code="import os\ndef cwd():\n    return os.getcwd()\n"))
    assert result.status == "success", result
    assert result.func_return == [42, str(exec_dir / "tools-venv")]
    assert cwd.func_return == str(exec_dir)
    messages = [r.getMessage() for r in caplog.records]
    assert any("install 1 requirement" in m for m in messages) and any(m.endswith(": ready") for m in messages)

    build_wheel(tmp_path, value=43)  # same file name, new content
    await recreate_venv(config)
    async with LocalSandbox(config) as sb:
        again = await sb.run(SandboxRequest(source_code=TOOL))
    assert again.func_return[0] == 43


async def test_two_processes_sharing_the_cache_build_a_venv_once(local_config, tmp_path, caplog):
    """Two server workers share ``venv_cache_dir``: each has its own ``RequirementVenvs`` (own in-process locks).
    The second to ask waits for the first's build and uses it; it never removes the venv being built."""
    from sandbox.venv import RequirementVenvs

    wheel = build_wheel(tmp_path)
    python = Path(sys.executable)
    workers = [RequirementVenvs(local_config.venv_cache_dir, python, 120) for _ in range(2)]
    found: list[Path] = []

    async def build(venvs: RequirementVenvs) -> None:
        found.append(await venvs.python_for([str(wheel)]))

    with caplog.at_level(logging.INFO, logger="sandbox"):
        async with anyio.create_task_group() as tg:
            for venvs in workers:
                tg.start_soon(build, venvs)
    assert len(found) == 2 and found[0] == found[1] and found[0].exists()
    assert sum(r.getMessage().endswith(": create venv") for r in caplog.records) == 1, "built once"
    probe = subprocess.run([str(found[0]), "-c", "import tinypkg; print(tinypkg.VALUE)"], capture_output=True,
                           text=True, timeout=60)
    assert probe.stdout.strip() == "42", probe.stderr
