#!/usr/bin/env bash
# Build the llama-cpp-python wheel once into a local wheel cache, with portable CPU flags.
# Why: the default native build enables AMX on CPUs that report it, and AMX kernels crash
# (SIGSEGV in ggml_backend_amx_mul_mat) in VMs that do not grant AMX tile state. AVX2/FMA/F16C
# run on any x86-64 CPU of the last decade; the wheel is cached, so the 5-7 min compile happens once.
set -euo pipefail
version="${LLAMA_CPP_VERSION:-0.3.36}"
wheels="${LITOPYS_WHEEL_CACHE:-$HOME/.cache/litopys/wheels}"
python="${1:-python3}"
mkdir -p "$wheels"
if ls "$wheels"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
  exit 0
fi
flags="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
if [ "$(uname -m)" = x86_64 ]; then
  flags="$flags -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
fi
echo "building llama-cpp-python $version (one time, 5-7 minutes on 2 cores)..." >&2
CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
  "$python" -m pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
  -w "$wheels" "llama-cpp-python==$version"
