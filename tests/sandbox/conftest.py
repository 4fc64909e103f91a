from pathlib import Path

import pytest

from sandbox import LocalSandboxConfig


@pytest.fixture
def local_config(tmp_path: Path) -> LocalSandboxConfig:
    return LocalSandboxConfig(
        warm_pool_size=0, timeout_s=20, venv_cache_dir=tmp_path / "venvs", memory_limit_mb=512
    )
