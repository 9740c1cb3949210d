#!/usr/bin/env bash
# Build the llama-cpp-python wheel once into a local wheel cache; print the wheel's path.
# Usage: build-llama.sh [PYTHON]
# Why not the default native build: it enables AMX on CPUs that report it, and AMX kernels
# crash (SIGSEGV in ggml_backend_amx_mul_mat) in VMs that do not grant AMX tile state. So the
# instruction sets are named here: AVX2/FMA/F16C (any x86-64 CPU of the last decade).
# LITOPYS_LLAMA_AVX512=1 adds AVX-512 (and AVX-VNNI) where /proc/cpuinfo reports them: prompt
# evaluation ~1.5x faster, but some answers change and the measured ones came out worse
# (docs/performance.md), so it is not the default.
# Each set of flags has its own folder in the cache, so a wheel never runs on a CPU it was not built for.
set -euo pipefail
version="${LLAMA_CPP_VERSION:-0.3.36}"
wheels="${LITOPYS_WHEEL_CACHE:-$HOME/.cache/litopys/wheels}"
python="${1:-python3}"

flags="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
if [ "$(uname -m)" = x86_64 ]; then
  flags="$flags -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  cpu=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  has() { for f in "$@"; do [[ "$cpu" == *" $f "* ]] || return 1; done; }
  if [ "${LITOPYS_LLAMA_AVX512:-0}" = 1 ] && has avx512f avx512cd avx512vl avx512dq avx512bw; then
    flags="$flags -DGGML_AVX512=ON"
    if has avx512_vnni; then flags="$flags -DGGML_AVX512_VNNI=ON"; fi
    if has avx512vbmi; then flags="$flags -DGGML_AVX512_VBMI=ON"; fi
    if has avx512_bf16; then flags="$flags -DGGML_AVX512_BF16=ON"; fi
  else
    flags="$flags -DGGML_AVX512=OFF"
  fi
  if [ "${LITOPYS_LLAMA_AVX512:-0}" = 1 ] && has avx_vnni; then flags="$flags -DGGML_AVX_VNNI=ON"; fi
fi
folder="$wheels/llama-$(printf '%s %s' "$version" "$flags" | sha256sum | cut -c1-12)"
mkdir -p "$folder"
wheel() { ls "$folder"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n1; }
if [ -z "$(wheel)" ]; then
  echo "building llama-cpp-python $version (one time, 5-7 minutes on 2 cores) with: $flags" >&2
  CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$python" -m pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$folder" "llama-cpp-python==$version" >&2
  printf '%s\n' "$flags" >"$folder/FLAGS"
fi
wheel
