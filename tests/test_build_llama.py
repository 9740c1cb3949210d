"""scripts/build-llama.sh: one wheel per CPU flag set, built once, its path printed (AVX-512 on request).

The compiler is not run here (CI builds the real wheel in scripts/install.sh): a stand-in
"python" records the build it was asked for and writes an empty wheel where pip would.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build-llama.sh"
FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for `python -m pip wheel ... -w DIR llama-cpp-python==V`: logs CMAKE_ARGS, writes DIR/<wheel>.
echo "$CMAKE_ARGS" >> "$BUILD_LOG"
while [ $# -gt 0 ]; do
  if [ "$1" = -w ]; then dir="$2"; fi
  shift
done
touch "$dir/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
"""


def _run(tmp_path: Path, **env: str) -> str:
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    done = subprocess.run(
        ["bash", str(SCRIPT), str(fake)],
        env={
            **os.environ,
            "LITOPYS_WHEEL_CACHE": str(tmp_path / "wheels"),
            "BUILD_LOG": str(tmp_path / "builds.log"),
            "LLAMA_CPP_VERSION": "0.3.36",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _builds(tmp_path: Path) -> list[str]:
    log = tmp_path / "builds.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="reads the CPU's flags from /proc/cpuinfo")
def test_the_wheel_is_built_once_per_flag_set_and_its_path_printed(tmp_path):
    first = _run(tmp_path)
    assert Path(first).is_file() and Path(first).parent.parent == tmp_path / "wheels"
    assert len(_builds(tmp_path)) == 1
    flags = _builds(tmp_path)[0].split()
    assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_AMX_TILE=OFF" in flags and "-DGGML_AVX2=ON" in flags
    assert (Path(first).parent / "FLAGS").read_text().split() == flags
    assert _run(tmp_path) == first and len(_builds(tmp_path)) == 1  # cached: not built again

    cpu = f" {Path('/proc/cpuinfo').read_text().split('flags', 1)[1].splitlines()[0]} "
    avx512 = all(f" {f} " in cpu for f in ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"))
    assert "-DGGML_AVX512=OFF" in flags and "-DGGML_AVX_VNNI=ON" not in flags  # the default: AVX2

    wide = _run(tmp_path, LITOPYS_LLAMA_AVX512="1")
    wide_flags = _builds(tmp_path)[-1].split()
    assert ("-DGGML_AVX512=ON" in wide_flags) == avx512
    # Another flag set is another folder: a wheel is never taken for a CPU it was not built for.
    assert (Path(wide).parent != Path(first).parent) == (wide_flags != flags)
